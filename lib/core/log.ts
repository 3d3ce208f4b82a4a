import pino, { type DestinationStream } from 'pino';

/**
 * Keys whose values are credentials or secret material in the shapes this code base holds:
 * DM accounts (clientPassword, serverPassword, the derived B64(MD5(user:pass)), nonces, HMAC
 * MACs), DS accounts (derived, nonce), API tokens and their hashes, users' password hashes,
 * session cookies and their ids' hashes, headers (Authorization, Cookie, Set-Cookie,
 * x-syncml-hmac), the content keys (wrapped, masterKey) and whatever an env var is called
 * that ends in KEY, SECRET, TOKEN or PASSWORD. Matched case-insensitively at any depth, so a
 * whole device row or header object logged by mistake still loses them.
 */
const SECRET_KEY =
  /pass(word|wd)?|secret|token|nonce|derived|digest|hmac|^mac$|authori[sz]ation|cookie|credential|^cred$|^key$|[a-z_]key$|^wrapped$|^hash$|^session$/i;
/** Identifiers (tokenId, sessionId) name a secret without being one, and say which. */
const isSecretKey = (k: string) => SECRET_KEY.test(k) && !/id$/i.test(k);

/** pino's own path redaction for the usual top-level and one-level shapes (cheap, before anything else runs). */
const REDACT_PATHS = [
  'password',
  'pass',
  'secret',
  'token',
  'authorization',
  'cookie',
  'nonce',
  'derived',
  '*.password',
  '*.pass',
  '*.secret',
  '*.token',
  '*.authorization',
  '*.cookie',
  '*.nonce',
  '*.derived',
  '*.clientPassword',
  '*.serverPassword',
  '*.clientNonce',
  '*.serverNonce',
  '*.passwordHash',
  '*.tokenHash',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'req.headers.authorization',
  'req.headers.cookie',
];

export const REDACTED = '[redacted]';

/**
 * Secrets inside free text: the parameters drizzle puts in a failed query's message (an
 * INSERT of a device or a DS account carries its passwords), a URL's user:password@, and
 * query parameters named like credentials.
 */
export function scrubText(s: string): string {
  return s
    .replace(/(\nparams: )[\s\S]*$/, `$1${REDACTED}`)
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, `$1${REDACTED}@`)
    .replace(
      /([?&](?:[a-z_]*(?:token|key|secret|pass(?:word)?|sig(?:nature)?|auth)[a-z_]*)=)[^&\s#]+/gi,
      `$1${REDACTED}`,
    )
    .replace(/\b(Bearer|Basic|Digest)\s+[A-Za-z0-9+/=._~-]{8,}/g, `$1 ${REDACTED}`);
}

/** An error as JSON: type, message, stack, its own fields and its cause, every one scrubbed. */
function errorOf(err: Error, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.constructor?.name ?? 'Error', message: scrubText(err.message) };
  if (err.stack) out.stack = scrubText(err.stack);
  for (const [k, v] of Object.entries(err)) {
    // drizzle's DrizzleQueryError keeps the bound values beside the query.
    if (k === 'params' || k === 'message' || k === 'stack') continue;
    out[k] = isSecretKey(k) ? REDACTED : scrub(v, seen, depth + 1);
  }
  if (err.cause !== undefined) out.cause = scrub(err.cause, seen, depth + 1);
  return out;
}

/** A copy of `v` with secret keys censored at any depth, errors serialised, bytes summarised. */
export function scrub(v: unknown, seen = new WeakSet<object>(), depth = 0): unknown {
  if (typeof v === 'string') return scrubText(v);
  if (v === null || typeof v !== 'object') return v;
  if (seen.has(v)) return '[circular]';
  if (depth > 8) return '[deep]';
  seen.add(v);
  if (v instanceof Error) return errorOf(v, seen, depth);
  // A message body or a blob in a log line is a mistake: its size says enough.
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `[${v.byteLength} bytes]`;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Headers) return scrub(Object.fromEntries(v.entries()), seen, depth + 1);
  if (v instanceof Map) return scrub(Object.fromEntries(v), seen, depth + 1);
  if (Array.isArray(v)) return v.map((x) => scrub(x, seen, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v))
    out[k] = isSecretKey(k) && x !== null && x !== undefined && x !== '' ? REDACTED : scrub(x, seen, depth + 1);
  return out;
}

/** The logger's options; a test passes its own destination to read what would be written. */
export function createLogger(opts: { level?: string; destination?: DestinationStream } = {}) {
  return pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      // Every object logged goes through scrub (errors included, which pino's err serializer
      // would otherwise copy whole, cause and own fields and all).
      formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
      serializers: { err: (e: unknown) => scrub(e) },
      hooks: {
        // The message string too: `log.info('…' + err.message)` must not leak what the object would not.
        logMethod(args, method) {
          // log.error(err): pino would take the message from the error itself, unscrubbed.
          if (args[0] instanceof Error)
            args.splice(0, 1, { err: args[0] }, ...(typeof args[1] === 'string' ? [] : [args[0].message]));
          for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = scrubText(args[i] as string);
          return method.apply(this, args as Parameters<typeof method>);
        },
      },
      base: undefined,
    },
    opts.destination,
  );
}

/** One logger for the process. Nothing secret should be passed to it; what is, is censored. */
export const log = createLogger();

export type Logger = typeof log;
