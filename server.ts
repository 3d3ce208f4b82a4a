/**
 * Rewind's one process: a plain node:http server that answers handsets on /dm (and DS
 * clients on /ds) itself, and hands everything else to Next. Handsets get Content-Length
 * and uncompressed bodies, and skip Next's routing cost (about 1,000 vs 28,000 requests/s
 * measured on a 5 KB body).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleDs } from './lib/gateway/ds-http';
import { handleDm } from './lib/gateway/dm-http';
import { servePackage } from './lib/gateway/packages-http';
import { clientAddressOf, stampClientAddress } from './lib/core/client-address';
import { env } from './lib/core/env';
import { log } from './lib/core/log';

export interface ServerOptions {
  port: number;
  host: string;
  /** Serve the console through Next (false for protocol-only test servers; a handler: tests standing in for Next). */
  next?: false | { dev: boolean; dir?: string } | { handler: NodeHandler };
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export type NodeHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

export function isProtocolPath(pathname: string): 'dm' | 'ds' | 'packages' | undefined {
  if (pathname === '/dm' || pathname.startsWith('/dm/')) return 'dm';
  if (pathname === '/ds' || pathname.startsWith('/ds/')) return 'ds';
  if (pathname.startsWith('/packages/')) return 'packages';
  return undefined;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  let nextHandler: NodeHandler | undefined;
  if (opts.next && 'handler' in opts.next) nextHandler = opts.next.handler;
  else if (opts.next) {
    const { default: next } = await import('next');
    const app = next({ dev: opts.next.dev, dir: opts.next.dir ?? process.cwd(), hostname: opts.host, port: opts.port });
    await app.prepare();
    const handle = app.getRequestHandler();
    nextHandler = (req, res) => handle(req, res);
  }

  const trustProxy = env().TRUST_PROXY;
  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0]!;
    const kind = isProtocolPath(pathname);
    // The address the rate limits count by; Next reads it from the header, which a client
    // cannot set (any copy it sent is replaced).
    const client = clientAddressOf(req, trustProxy);
    stampClientAddress(req, client);
    const route: Promise<void> | void =
      kind === 'dm'
        ? handleDm(req, res, client)
        : kind === 'ds'
          ? handleDs(req, res, client)
          : kind === 'packages'
            ? servePackage(req, res, pathname)
            : nextHandler
              ? nextHandler(req, res)
              : notFound(res);
    Promise.resolve(route).catch((err: unknown) => {
      log.error({ err, path: pathname }, 'unhandled request error');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain', 'content-length': '21' });
        res.end('internal server error');
      } else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = opts.host === '0.0.0.0' ? 'localhost' : opts.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function notFound(res: http.ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain', 'content-length': '9' });
  res.end('not found');
}
