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
import { FIXED_SECURITY_HEADERS, HSTS, LOCKED_CSP, servedOverTls, type TlsConfig } from './lib/core/security-headers';

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
  const tlsConfig: TlsConfig = { publicUrl: env().PUBLIC_URL, trustProxy };
  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0]!;
    const tls = () => servedOverTls(headerValue(req.headers['x-forwarded-proto']), tlsConfig);
    // Next answers a path it cannot percent-decode with a bare 500: refuse it here, before any route sees it.
    if (!decodablePath(pathname)) return badPath(res, pathname, tls());
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
              : answerPlain(res, 404, 'not found', tls());
    Promise.resolve(route).catch((err: unknown) => {
      log.error({ err, path: pathname }, 'unhandled request error');
      if (!res.headersSent) answerPlain(res, 500, 'internal server error', tls());
      else res.destroy();
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

/** Whether every percent-escape of a path decodes (to UTF-8, as Next decodes the segments). */
export function decodablePath(pathname: string): boolean {
  if (!pathname.includes('%')) return true;
  try {
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

/** 400 for a path that does not decode: the API's JSON error under /api, a line of text elsewhere. */
function badPath(res: http.ServerResponse, pathname: string, tls: boolean): void {
  const message = 'The address has a malformed percent-encoding (%XX that is not UTF-8).';
  if (pathname === '/api' || pathname.startsWith('/api/')) {
    answer(res, 400, 'application/json', JSON.stringify({ error: { code: 'bad-path', message } }), tls);
  } else answerPlain(res, 400, message, tls);
}

function answerPlain(res: http.ServerResponse, status: number, text: string, tls: boolean): void {
  answer(res, status, 'text/plain; charset=utf-8', text, tls);
}

/** An answer the front writes itself, with the same security headers Next's answers carry. */
function answer(res: http.ServerResponse, status: number, type: string, body: string, tls: boolean): void {
  const headers: http.OutgoingHttpHeaders = {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'content-security-policy': LOCKED_CSP,
  };
  for (const h of FIXED_SECURITY_HEADERS) headers[h.key.toLowerCase()] = h.value;
  if (tls) headers['strict-transport-security'] = HSTS;
  res.writeHead(status, headers);
  res.end(body);
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
