/**
 * The package catalogs from the command line: `rewind firmware add`, `rewind app add` and
 * `rewind catalog`. The same publishing as POST /catalog/firmware and /catalog/apps
 * (lib/catalog/catalog.ts); a restore takes a handset back to exactly the versions published here.
 */
import fs from 'node:fs';
import { getContext } from '../lib/core/context';
import { AppError } from '../lib/core/errors';
import { listAppPackages, listFirmwarePackages } from '../db/queries/catalog';
import { MAX_PACKAGE_BYTES, publishAppAs, publishFirmwareAs } from '../lib/catalog/catalog';
import { publicAppPackage, publicFirmwarePackage } from '../lib/restore/views';
import { appUploadSchema, firmwareUploadSchema } from '../lib/restore/schemas';
import { positionals, type Values } from './args';
import { formatBytes, formatTime, printJson, table } from './format';
import { UsageError, type Command } from './usage';
import type { z } from 'zod';

function readPackage(file: string): Uint8Array {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new UsageError(`${file} is not a file`);
    if (stat.size > MAX_PACKAGE_BYTES) throw new UsageError(`${file} is larger than ${MAX_PACKAGE_BYTES} bytes`);
    return new Uint8Array(fs.readFileSync(file));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The fields the options give, checked by the API's schema; the first bad one named as its option. */
function fields<S extends z.ZodType>(
  schema: S,
  input: Record<string, unknown>,
  option: (field: string) => string,
): z.output<S> {
  const r = schema.safeParse(Object.fromEntries(Object.entries(input).filter(([, x]) => x !== undefined)));
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  throw new UsageError(`--${option(field)}: ${issue.code === 'invalid_type' ? 'is required' : issue.message}`);
}

const str = (v: Values, k: string) => (typeof v[k] === 'string' ? v[k] : undefined);

/** Bad versions, ids or an empty file are bad arguments (exit 2). */
async function publishing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError) throw new UsageError(err.message);
    throw err;
  }
}

export const firmwareAdd: Command = {
  summary: 'publish a firmware image for a model and version (replaces an earlier upload of it)',
  usage: '--manufacturer MAN --model MOD --version V [--name NAME] FILE',
  options: {
    manufacturer: { type: 'string' },
    model: { type: 'string' },
    version: { type: 'string' },
    name: { type: 'string' },
  },
  async run(v, pos) {
    const [file] = positionals(pos, ['FILE']);
    const meta = fields(
      firmwareUploadSchema,
      {
        manufacturer: str(v, 'manufacturer'),
        model: str(v, 'model'),
        version: str(v, 'version'),
        name: str(v, 'name'),
      },
      (f) => f,
    );
    const bytes = readPackage(file!);
    const ctx = getContext();
    const row = await publishing(() => publishFirmwareAs(ctx, { ...meta, bytes }, 'cli'));
    console.log(
      `firmware ${row.manufacturer} ${row.model} ${row.version} published: package ${row.id}, ${formatBytes(row.size)}, sha256 ${row.blobHash.slice(0, 12)}`,
    );
  },
};

export const appAdd: Command = {
  summary: 'publish an app package for one version (replaces an earlier upload of it)',
  usage: '--id APP_ID --name NAME --version V [--models "MAN/MOD,MAN/MOD"] [--system-of MAKER] FILE',
  options: {
    id: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    models: { type: 'string' },
    'system-of': { type: 'string' },
  },
  async run(v, pos) {
    const [file] = positionals(pos, ['FILE']);
    const meta = fields(
      appUploadSchema,
      {
        appId: str(v, 'id'),
        name: str(v, 'name'),
        version: str(v, 'version'),
        models: str(v, 'models'),
        systemOf: str(v, 'system-of'),
      },
      (f) => (f === 'appId' ? 'id' : f === 'systemOf' ? 'system-of' : f),
    );
    const bytes = readPackage(file!);
    const ctx = getContext();
    const row = await publishing(() => publishAppAs(ctx, { ...meta, bytes }, 'cli'));
    console.log(
      `app ${row.name} [${row.appId}] ${row.version} published${meta.models ? ` for ${meta.models.join(', ')}` : ' for any model'}: package ${row.id}, ${formatBytes(row.size)}, sha256 ${row.blobHash.slice(0, 12)}`,
    );
  },
};

export const catalogCommand: Command = {
  summary: 'list the firmware and app packages restores install from',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    positionals(pos, []);
    const db = getContext().db;
    const firmware = (await listFirmwarePackages(db)).map(publicFirmwarePackage);
    const apps = (await listAppPackages(db)).map(publicAppPackage);
    if (v.json) return printJson({ firmware, apps });
    const out: string[] = [`firmware (${firmware.length}):`];
    if (firmware.length) {
      out.push(
        table(firmware, [
          { header: 'manufacturer', value: (p) => p.manufacturer },
          { header: 'model', value: (p) => p.model },
          { header: 'version', value: (p) => p.version },
          { header: 'name', value: (p) => p.name ?? '-' },
          { header: 'size', value: (p) => formatBytes(p.size), align: 'right' },
          { header: 'added (UTC)', value: (p) => formatTime(p.createdAt) },
          { header: 'package', value: (p) => p.id },
        ]),
      );
    }
    out.push('', `apps (${apps.length}):`);
    if (apps.length) {
      out.push(
        table(apps, [
          { header: 'app id', value: (p) => p.appId },
          { header: 'name', value: (p) => p.name },
          { header: 'version', value: (p) => p.version },
          { header: 'models', value: (p) => p.models?.join(',') ?? 'any' },
          { header: 'size', value: (p) => formatBytes(p.size), align: 'right' },
          { header: 'added (UTC)', value: (p) => formatTime(p.createdAt) },
          { header: 'package', value: (p) => p.id },
        ]),
      );
    }
    console.log(out.join('\n'));
  },
};
