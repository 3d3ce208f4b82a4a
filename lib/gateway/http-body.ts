/**
 * Reading request bodies from hostile peers: the declared length is checked before a byte
 * is read, the streamed length is capped, and a slow or stalled upload times out.
 */
import type http from 'node:http';
import { decodeMessage } from '../omadm/codec/index';
import type { DecodeLimits } from '../omadm/codec/element';
import { DecodeError } from '../omadm/errors';
import { encodingOf, type Encoding, type SyncMLMessage } from '../omadm/message';
import { log } from '../core/log';

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 408 | 413,
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

export function readBody(req: http.IncomingMessage, maxBytes: number, timeoutMs = 30_000): Promise<Uint8Array> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const n = Number(declared);
    if (!Number.isSafeInteger(n) || n < 0) return Promise.reject(new BodyError(400, 'invalid Content-Length'));
    if (n > maxBytes)
      return Promise.reject(new BodyError(413, `body of ${n} bytes exceeds the ${maxBytes}-byte limit`));
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
export function send(
  res: http.ServerResponse,
  status: number,
  body: Uint8Array | string,
  headers: Record<string, string> = {},
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    ...headers,
    'content-length': String(bytes.length),
    'cache-control': 'no-store',
  });
  res.end(bytes);
}

export interface SyncMlRequest {
  message: SyncMLMessage;
  body: Uint8Array;
  encoding: Encoding;
  /** The request's media type, lower-case, without parameters. */
  contentType: string;
}

/**
 * The part /dm and /ds share: POST only, a SyncML content type, a capped body, a decode
 * within limits. Answers the error itself and returns undefined when the request is refused.
 */
export async function readSyncMl(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  opts: { name: string; types: string; maxBytes: number; limits: Partial<DecodeLimits> },
): Promise<SyncMlRequest | undefined> {
  const raw = await readSyncMlBody(req, res, opts);
  return raw && decodeSyncMl(res, raw, opts);
}

export interface SyncMlBody {
  body: Uint8Array;
  encoding: Encoding;
  contentType: string | undefined;
}

/** The request's bytes, once method, content type and size are right (else the answer is sent). */
export async function readSyncMlBody(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  opts: { name: string; types: string; maxBytes: number },
): Promise<SyncMlBody | undefined> {
  if (req.method !== 'POST') {
    send(res, 405, `the ${opts.name} endpoint accepts POST only`, { allow: 'POST' });
    return undefined;
  }
  const contentType = req.headers['content-type'];
  const encoding = encodingOf(contentType);
  if (!encoding) {
    req.resume();
    send(res, 415, `unsupported content type; send ${opts.types}`);
    return undefined;
  }
  try {
    return { body: await readBody(req, opts.maxBytes), encoding, contentType };
  } catch (err) {
    if (err instanceof BodyError) {
      send(res, err.status, err.message, { connection: 'close' });
      return undefined;
    }
    throw err;
  }
}

/** The decoded message (else the 400 or 413 is sent). */
export function decodeSyncMl(
  res: http.ServerResponse,
  raw: SyncMlBody,
  opts: { name: string; limits: Partial<DecodeLimits> },
): SyncMlRequest | undefined {
  try {
    const message = decodeMessage(raw.body, raw.encoding, opts.limits);
    return {
      message,
      body: raw.body,
      encoding: raw.encoding,
      contentType: (raw.contentType ?? '').split(';')[0]!.trim().toLowerCase(),
    };
  } catch (err) {
    if (err instanceof DecodeError) {
      log.info({ code: err.code, offset: err.offset, endpoint: opts.name }, 'undecodable SyncML message');
      send(res, err.code === 'too-large' ? 413 : 400, `${err.code}: ${err.message}`);
      return undefined;
    }
    throw err;
  }
}

/**
 * 429 for a client over a rate limit, often sent before its body is read: the rest of the
 * upload is drained, not parsed. `Retry-After` in whole seconds.
 */
export function sendTooManyRequests(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  retryAfterSeconds: number,
  what: string,
): void {
  req.resume();
  send(res, 429, `too many failed ${what}; try again in ${retryAfterSeconds} s`, {
    'retry-after': String(retryAfterSeconds),
  });
}
