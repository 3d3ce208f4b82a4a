/**
 * GET /packages/<id>: firmware and app packages for handsets to download (the PkgURL of a
 * FUMO or SCOMO operation). Plain node:http with an exact Content-Length, like /dm: the
 * handsets that mishandle chunked answers download packages too.
 */
import type http from 'node:http';
import { getContext } from '../core/context';
import { readPackage } from '../catalog/catalog';
import { send } from './http-body';

export async function servePackage(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  pathname: string,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'packages are fetched with GET', { allow: 'GET, HEAD' });
    return;
  }
  // Package ids are UUIDs: nothing to decode, and a malformed escape is just not a package.
  const id = pathname.slice('/packages/'.length);
  const bytes = await readPackage(getContext(), id);
  if (!bytes) {
    send(res, 404, 'no such package');
    return;
  }
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(bytes.length),
    'cache-control': 'public, max-age=86400, immutable',
  });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}
