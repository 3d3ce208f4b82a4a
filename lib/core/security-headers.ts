/**
 * The security headers of every answer, in one place: next.config.ts sends the fixed ones on
 * every page and API answer, proxy.ts adds the per-request ones (the pages' CSP with a fresh
 * nonce, HSTS), and server.ts puts the same on the answers it writes itself. No imports: both
 * next.config.ts and the node:http front load this.
 */

/** On every answer: no framing, no MIME sniffing, no referrer leaks, no powerful features. */
export const FIXED_SECURITY_HEADERS: ReadonlyArray<{ key: string; value: string }> = [
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Referrer-Policy', value: 'same-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
];

/** For answers that are never rendered as a page (JSON, plain text): nothing may load or run. */
export const LOCKED_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The console's and portal's pages: scripts only from this origin and only those carrying this
 * request's nonce (Next puts it on its own scripts; 'strict-dynamic' lets them load their chunks).
 * Styles stay 'unsafe-inline': React writes style attributes (progress bars), which nonces cannot
 * cover, and a style cannot run code. `dev` adds 'unsafe-eval', which React's dev build needs.
 */
export function pageCsp(nonce: string, dev = false): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ''}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Browsers that once reached us over TLS keep to it for a year. Sent only when the request came over TLS. */
export const HSTS = 'max-age=31536000; includeSubDomains';

export interface TlsConfig {
  /** PUBLIC_URL: an https:// public URL means the deployment is served over TLS, whatever a request says. */
  publicUrl?: string | undefined;
  /** TRUST_PROXY: only then is X-Forwarded-Proto believed (any client can send one). */
  trustProxy: boolean;
}

/**
 * Whether the browser reached us over TLS, decided by the configuration: an https PUBLIC_URL,
 * or a trusted proxy's X-Forwarded-Proto (its last value, the one the proxy itself added, as with
 * X-Forwarded-For). Without either, a client's own X-Forwarded-Proto decides nothing.
 */
export function servedOverTls(forwardedProto: string | null | undefined, config: TlsConfig): boolean {
  if (config.publicUrl?.toLowerCase().startsWith('https://')) return true;
  if (!config.trustProxy || !forwardedProto) return false;
  const last = forwardedProto.split(',').pop()?.trim().toLowerCase();
  return last === 'https';
}
