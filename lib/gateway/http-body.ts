/**
 * Reading request bodies from hostile peers: the declared length is checked before a byte
 * is read, the streamed length is capped, and a slow or stalled upload times out.
 */
import type http from 'node:http';

export class BodyError extends Error {
  constructor(readonly status: 400 | 408 | 413, message: string) {
    super(message);
    this.name = 'BodyError';
  }
}

export function readBody(req: http.IncomingMessage, maxBytes: number, timeoutMs = 30_000): Promise<Uint8Array> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const n = Number(declared);
    if (!Number.isSafeInteger(n) || n < 0) return Promise.reject(new BodyError(400, 'invalid Content-Length'));
    if (n > maxBytes) return Promise.reject(new BodyError(413, `body of ${n} bytes exceeds the ${maxBytes}-byte limit`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: Error | undefined, body?: Uint8Array) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError);
      if (err) {
        req.resume(); // drain, so the socket can carry the error answer
        reject(err);
      } else resolve(body!);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) finish(new BodyError(413, `body exceeds the ${maxBytes}-byte limit`));
      else chunks.push(c);
    };
    const onEnd = () => {
      const buf = Buffer.concat(chunks, size);
      finish(undefined, new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
    };
    const onError = (e: Error) => finish(new BodyError(400, `request stream failed: ${e.message}`));
    const timer = setTimeout(() => finish(new BodyError(408, 'request body not received in time')), timeoutMs);
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** Answers with an exact Content-Length and no compression: some handsets mishandle chunked or gzip bodies. */
export function send(res: http.ServerResponse, status: number, body: Uint8Array | string, headers: Record<string, string> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    ...headers,
    'content-length': String(bytes.length),
    'cache-control': 'no-store',
  });
  res.end(bytes);
}
