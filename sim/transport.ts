/**
 * How a virtual handset reaches the DM server and download servers: one POST (or GET) at
 * a time, with a timeout and a cap on how much it reads back. A function type, so fault
 * injection (faults.ts) and tests can wrap or replace it.
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpRequest {
  method: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** Abort after this long without a complete reply. */
  timeoutMs: number;
  /** Refuse replies larger than this. */
  maxReplyBytes: number;
}

export interface HttpReply {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Uint8Array;
}

export type Transport = (req: HttpRequest) => Promise<HttpReply>;

export type TransportErrorCode =
  | 'timeout' // no complete reply in time
  | 'network' // connection refused, reset, DNS...
  | 'dropped' // the connection went away mid-exchange (fault injection or a real reset)
  | 'too-large' // the reply exceeded maxReplyBytes
  | 'bad-url'; // not an http(s) URL

export class TransportError extends Error {
  readonly code: TransportErrorCode;
  constructor(code: TransportErrorCode, message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'TransportError';
    this.code = code;
  }
}

// Node's own HTTP client with pooled keep-alive connections: fetch (undici with web streams)
// cost a virtual handset more CPU per message than the server's work on it, and a thousand
// handsets share one process in the soak and the benches.
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/** The real thing: node:http with a timeout for the whole exchange. Redirects are not followed. */
export const httpTransport: Transport = async (req) => {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new TransportError('bad-url', `not a URL: ${req.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TransportError('bad-url', `not http(s): ${req.url}`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await exchange(url, req);
    } catch (e) {
      // A pooled connection the server had just closed as idle fails before any reply: the
      // request never reached it, so it is sent once more on a new connection (Node's advice
      // for keep-alive clients), as a browser does.
      if (!(e instanceof StaleConnection) || attempt > 1) throw e instanceof StaleConnection ? e.cause : e;
    }
  }
};

class StaleConnection extends Error {
  constructor(override readonly cause: TransportError) {
    super(cause.message);
  }
}

function exchange(url: URL, req: HttpRequest): Promise<HttpReply> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<HttpReply>((resolve, reject) => {
    let replied = false;
    let settled = false;
    const done = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f();
    };
    const fail = (e: Error) => done(() => reject(e));
    const r = client.request(url, {
      method: req.method,
      headers: { ...req.headers, ...(req.body ? { 'content-length': String(req.body.length) } : {}) },
      agent: agents[url.protocol as 'http:' | 'https:'],
    });
    const timer = setTimeout(() => {
      fail(
        new TransportError(
          'timeout',
          replied
            ? `reply from ${url.host} not complete in ${req.timeoutMs} ms`
            : `no reply from ${url.host} in ${req.timeoutMs} ms`,
        ),
      );
      r.destroy();
    }, req.timeoutMs);
    r.on('error', (e) => {
      if (replied) return fail(new TransportError('dropped', `${url.host}: ${e.message}`, { cause: e }));
      const err = new TransportError('network', `${url.host}: ${e.message}`, { cause: e });
      fail(r.reusedSocket && (e as NodeJS.ErrnoException).code === 'ECONNRESET' ? new StaleConnection(err) : err);
    });
    r.on('response', (res) => {
      replied = true;
      const declared = Number(res.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > req.maxReplyBytes) {
        fail(new TransportError('too-large', `reply of ${declared} bytes exceeds ${req.maxReplyBytes}`));
        res.destroy();
        return;
      }
      const parts: Buffer[] = [];
      let total = 0;
      res.on('data', (c: Buffer) => {
        total += c.length;
        if (total > req.maxReplyBytes) {
          fail(new TransportError('too-large', `reply exceeds ${req.maxReplyBytes} bytes`));
          res.destroy();
          return;
        }
        parts.push(c);
      });
      res.on('error', (e) => fail(new TransportError('dropped', `${url.host}: ${e.message}`, { cause: e })));
      res.on('aborted', () => fail(new TransportError('dropped', `${url.host}: the reply was cut off`)));
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers))
          if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        const body = Buffer.concat(parts, total);
        done(() =>
          resolve({
            status: res.statusCode ?? 0,
            headers,
            body: new Uint8Array(body.buffer, body.byteOffset, body.length),
          }),
        );
      });
    });
    if (req.body) r.end(req.body);
    else r.end();
  });
}

/**
 * Sends each request to the next of several servers on this machine (127.0.0.1, one port
 * each), whatever URL the handset was told to use: a load balancer without affinity, so each
 * message of a session may reach a different server process.
 */
export function roundRobinTransport(
  ports: readonly number[],
  onSend?: (port: number) => void,
  inner: Transport = httpTransport,
): Transport {
  let next = 0;
  return (req) => {
    const u = new URL(req.url);
    if (u.hostname === '127.0.0.1' && ports.length) {
      const port = ports[next++ % ports.length]!;
      u.port = String(port);
      onSend?.(port);
    }
    return inner({ ...req, url: u.toString() });
  };
}
