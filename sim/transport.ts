/**
 * How a virtual handset reaches the DM server and download servers: one POST (or GET) at
 * a time, with a timeout and a cap on how much it reads back. A function type, so fault
 * injection (faults.ts) and tests can wrap or replace it.
 */

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

async function readLimited(res: Response, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new TransportError('too-large', `reply of ${declared} bytes exceeds ${max}`);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new TransportError('too-large', `reply exceeds ${max} bytes`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The real thing: globalThis.fetch with an AbortController for the timeout. Redirects are not followed. */
export const httpTransport: Transport = async (req) => {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new TransportError('bad-url', `not a URL: ${req.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TransportError('bad-url', `not http(s): ${req.url}`);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), req.timeoutMs);
  try {
    let res: Response;
    try {
      res = await globalThis.fetch(url, {
        method: req.method,
        headers: req.headers,
        ...(req.body !== undefined ? { body: req.body.slice() } : {}),
        signal: ac.signal,
        redirect: 'manual',
      });
    } catch (e) {
      if (ac.signal.aborted)
        throw new TransportError('timeout', `no reply from ${url.host} in ${req.timeoutMs} ms`, { cause: e });
      throw new TransportError('network', `${url.host}: ${(e as Error).message}`, { cause: e });
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      headers[k.toLowerCase()] = v;
    });
    let body: Uint8Array;
    try {
      body = await readLimited(res, req.maxReplyBytes);
    } catch (e) {
      if (e instanceof TransportError) throw e;
      if (ac.signal.aborted)
        throw new TransportError('timeout', `reply from ${url.host} not complete in ${req.timeoutMs} ms`, { cause: e });
      throw new TransportError('dropped', `${url.host}: ${(e as Error).message}`, { cause: e });
    }
    return { status: res.status, headers, body };
  } finally {
    clearTimeout(timer);
  }
};

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
