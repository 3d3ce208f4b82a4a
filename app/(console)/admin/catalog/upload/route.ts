import { z } from 'zod';
import { MAX_PACKAGE_BYTES, publishAppAs, publishFirmwareAs } from '@/lib/catalog/catalog';
import { getContext } from '@/lib/core/context';
import { AppError } from '@/lib/core/errors';
import { readBytes } from '@/lib/server/api';
import { refuseCrossSite } from '@/lib/server/origin';
import { getViewer } from '@/lib/server/session';
import { modelNameSchema } from '@/lib/backup/schemas';

export const dynamic = 'force-dynamic';

/*
 * Package uploads from the catalog page. Not a server action: an action's body is read
 * whole before any code of ours runs, so raising its 1 MB limit to a package's 256 MB
 * would let anyone, signed in or not, make the server buffer that much. Here the viewer
 * and the declared size are checked first and the body is read with the cap.
 */

const text = (label: string, max = 64) =>
  z.string().trim().min(1, `Enter the ${label}.`).max(max, `The ${label} has at most ${max} characters.`);
const metaSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('firmware'),
    manufacturer: modelNameSchema,
    model: modelNameSchema,
    version: text('version', 32),
    name: z
      .string()
      .trim()
      .max(128)
      .optional()
      .transform((v) => v || undefined),
  }),
  z.object({
    kind: z.literal('app'),
    appId: text('application id', 256),
    name: text('name', 128),
    version: text('version', 32),
    models: z
      .string()
      .trim()
      .max(4096)
      .optional()
      .transform((v) =>
        v
          ? v
              .split(',')
              .map((m) => m.trim())
              .filter(Boolean)
          : undefined,
      )
      .pipe(z.array(z.string().regex(/^[^/]+\/[^/]+$/, 'Write each model as Manufacturer/Model.')).optional()),
  }),
]);

const problem = (status: number, message: string, fieldErrors?: Record<string, string[]>) =>
  Response.json({ error: message, ...(fieldErrors ? { fieldErrors } : {}) }, { status });

export async function POST(req: Request): Promise<Response> {
  // The session cookie is SameSite=Lax already; refusing another site's request outright costs nothing more.
  const crossSite = refuseCrossSite(req);
  if (crossSite) return crossSite;
  const viewer = await getViewer();
  if (!viewer) return problem(401, 'Please sign in.');
  if (viewer.role !== 'admin') return problem(403, 'You do not have access to this.');
  const meta = metaSchema.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!meta.success) {
    const fieldErrors: Record<string, string[]> = {};
    for (const i of meta.error.issues) (fieldErrors[String(i.path[0] ?? '_')] ??= []).push(i.message);
    return problem(400, 'Some fields need another look.', fieldErrors);
  }
  const ctx = getContext();
  // The only refusal reading the body gives is a body over the cap.
  const bytes = await readBytes(req, MAX_PACKAGE_BYTES).catch((err: unknown) => {
    if (err instanceof AppError) return null;
    throw err;
  });
  if (!bytes)
    return problem(413, `The file is larger than the ${MAX_PACKAGE_BYTES / 1024 / 1024} MB a package may be.`);
  try {
    const m = meta.data;
    if (m.kind === 'firmware') {
      const row = await publishFirmwareAs(
        ctx,
        {
          manufacturer: m.manufacturer,
          model: m.model,
          version: m.version,
          ...(m.name ? { name: m.name } : {}),
          bytes,
        },
        viewer.email,
      );
      return Response.json(
        { id: row.id, what: `${row.manufacturer} ${row.model} firmware ${row.version}` },
        { status: 201 },
      );
    }
    const row = await publishAppAs(
      ctx,
      { appId: m.appId, name: m.name, version: m.version, ...(m.models ? { models: m.models } : {}), bytes },
      viewer.email,
    );
    return Response.json({ id: row.id, what: `${row.name} ${row.version}` }, { status: 201 });
  } catch (err) {
    if (err instanceof AppError) return problem(400, err.message.replace(/^./, (c) => c.toUpperCase()) + '.');
    throw err;
  }
}
