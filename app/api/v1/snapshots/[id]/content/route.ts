import { apiError, apiHandler } from '@/lib/server/api';
import { readNode } from '@/lib/backup/read';

export const dynamic = 'force-dynamic';

/** type/subtype[;params]: anything else a handset reported is served as plain bytes. */
const MIME =
  /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}(\s*;\s*[a-z0-9!#$&^_.+-]+=("[^"\r\n]*"|[a-z0-9!#$&^_.+-]+))*$/i;

/**
 * One node's value as the handset gave it, with its MIME type. The type and the bytes come
 * from the handset, so browsers are told not to sniff or render them in our origin.
 *
 * Content-Length is set, but Next.js drops it from route handler answers (it sends them
 * chunked), so the size also goes in X-Content-Length, which a front such as server.ts
 * can turn back into Content-Length.
 */
export const GET = apiHandler<{ id: string }>(['admin', 'agent'], async (req, { db, blobs }, { id }) => {
  const raw = new URL(req.url).searchParams.get('path');
  if (!raw) return apiError(400, 'invalid', 'path: give the node, e.g. ?path=./DevDetail/FwV', { path: ['required'] });
  const path = raw.startsWith('./') || raw === '.' ? raw : `./${raw.replace(/^\/+/, '')}`;
  const { entry, bytes } = await readNode(db, blobs, id, path);
  if (entry.format === 'node')
    return apiError(400, 'interior-node', `${path} is an interior node: it has children, not content.`);
  const type = entry.type && MIME.test(entry.type) ? entry.type : 'application/octet-stream';
  const name =
    path
      .split('/')
      .pop()!
      .replace(/[^\w.-]/g, '_') || 'content';
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    headers: {
      'content-type': type,
      'content-length': String(bytes.byteLength),
      'x-content-length': String(bytes.byteLength),
      'content-disposition': `attachment; filename="${name}"`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'private, max-age=0',
      ...(entry.hash ? { etag: `"${entry.hash}"` } : {}),
    },
  });
});
