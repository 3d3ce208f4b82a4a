/**
 * SyncML DM 1.2 authentication (OMA-TS-DM_Security-V1_2_1 §5): Basic and MD5 digest
 * credentials carried in <Cred>, the HMAC integrity header `x-syncml-hmac`, and the
 * challenges (<Chal>) that hand the peer its next nonce.
 *
 * Servers should keep only the "derived" secret B64(MD5(user ":" password)): MD5 and HMAC
 * need nothing else, so a database leak does not reveal passwords that may be reused.
 * Basic is the exception — it compares the password itself.
 */
import { md5 } from '@noble/hashes/legacy.js';
import type { Chal, Cred } from './message';
import { base64Decode, base64Encode, concatBytes, utf8Decode, utf8Encode } from './util/bytes';

export type AuthScheme = 'basic' | 'md5' | 'hmac';

export const AUTH_TYPE = {
  basic: 'syncml:auth-basic',
  md5: 'syncml:auth-md5',
  hmac: 'syncml:auth-MAC',
} as const satisfies Record<AuthScheme, string>;

/** Which scheme a Meta Type names. Case-insensitive: clients write `syncml:auth-mac` too. */
export function schemeOfType(type: string | undefined): AuthScheme | undefined {
  if (type === undefined) return undefined;
  switch (type.trim().toLowerCase()) {
    case 'syncml:auth-basic':
      return 'basic';
    case 'syncml:auth-md5':
      return 'md5';
    case 'syncml:auth-mac':
      return 'hmac';
    default:
      return undefined;
  }
}

const COLON = new Uint8Array([0x3a]);

function md5b64(...parts: Uint8Array[]): string {
  return base64Encode(md5(concatBytes(parts)));
}

/** B64(MD5(user ":" password)) — the value a server stores instead of the password. */
export function md5Derived(user: string, password: string): string {
  return md5b64(utf8Encode(`${user}:${password}`));
}

/** B64(MD5(derived ":" nonce)). The nonce is raw bytes; an empty nonce still keeps its ':'. */
export function md5Digest(derived: string, nonce: Uint8Array): string {
  return md5b64(utf8Encode(derived), COLON, nonce);
}

/** B64(user ":" password), the Basic credential. */
export function basicCredential(user: string, password: string): string {
  return base64Encode(utf8Encode(`${user}:${password}`));
}

/** Longest Basic credential we look at; real ones are a few dozen bytes. */
const MAX_BASIC_CHARS = 4096;

/** Decodes a Basic credential; null when it is not base64 of UTF-8 "user:password". */
export function parseBasic(data: string): { user: string; password: string } | null {
  if (data.length > MAX_BASIC_CHARS) return null;
  let text: string;
  try {
    text = utf8Decode(base64Decode(data.trim()));
  } catch {
    return null;
  }
  // The user name cannot contain ':' (RFC 7617 has the same rule); the password may.
  const i = text.indexOf(':');
  if (i < 0) return null;
  return { user: text.slice(0, i), password: text.slice(i + 1) };
}

export interface Secret {
  user: string;
  password?: string;
  /** md5Derived(user, password). Either this or password suffices for md5/hmac; basic needs password. */
  derived?: string;
}

/** The derived secret, from storage or computed; undefined if the Secret holds neither. */
export function derivedOf(secret: Secret): string | undefined {
  if (secret.derived !== undefined && secret.derived !== '') return secret.derived;
  if (secret.password !== undefined) return md5Derived(secret.user, secret.password);
  return undefined;
}

function requireDerived(secret: Secret): string {
  const d = derivedOf(secret);
  if (d === undefined) throw new Error(`no password or derived secret for ${secret.user}`);
  return d;
}

/**
 * Equality whose running time depends only on the lengths, so an attacker timing our
 * answers learns nothing about how much of a digest or password was right.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

function constantTimeStringEqual(a: string, b: string): boolean {
  return constantTimeEqual(utf8Encode(a), utf8Encode(b));
}

/** Compares two base64 digests by their bytes, so padding or line breaks do not matter. */
function digestEqual(received: string, expected: string): boolean {
  if (received.length > 256) return false;
  let r: Uint8Array;
  try {
    r = base64Decode(received.trim());
  } catch {
    return false;
  }
  return constantTimeEqual(r, base64Decode(expected));
}

/**
 * The <Cred> to put in a SyncHdr for basic/md5 (undefined for hmac, which travels in the
 * x-syncml-hmac HTTP header). Throws if the secret cannot produce the credential — a
 * provisioning bug, not a protocol event.
 */
export function makeCred(scheme: AuthScheme, secret: Secret, nonce: Uint8Array): Cred | undefined {
  switch (scheme) {
    case 'hmac':
      return undefined;
    case 'basic':
      if (secret.password === undefined) throw new Error(`basic auth needs the password of ${secret.user}`);
      return { meta: { type: AUTH_TYPE.basic, format: 'b64' }, data: basicCredential(secret.user, secret.password) };
    case 'md5':
      return { meta: { type: AUTH_TYPE.md5, format: 'b64' }, data: md5Digest(requireDerived(secret), nonce) };
  }
}

/**
 * Checks a received <Cred>. md5 checks the digest only (the user name is not in it; the
 * caller picked the secret by the message's Source). basic checks user and password.
 * A Cred whose Meta Type names another scheme is refused; a missing Type is tolerated
 * because the value check is decisive anyway.
 */
export function verifyCred(cred: Cred | undefined, scheme: AuthScheme, secret: Secret, nonce: Uint8Array): boolean {
  if (!cred || typeof cred.data !== 'string') return false;
  const declared = cred.meta?.type;
  if (declared !== undefined && schemeOfType(declared) !== scheme) return false;
  switch (scheme) {
    case 'hmac':
      return false; // HMAC is never carried in <Cred>
    case 'basic': {
      if (secret.password === undefined) return false;
      const got = parseBasic(cred.data);
      if (!got) return false;
      // Both compared, always, so timing does not tell which one was wrong.
      const userOk = constantTimeStringEqual(got.user, secret.user);
      const passOk = constantTimeStringEqual(got.password, secret.password);
      return userOk && passOk;
    }
    case 'md5': {
      const derived = derivedOf(secret);
      if (derived === undefined) return false;
      return digestEqual(cred.data, md5Digest(derived, nonce));
    }
  }
}

/** mac = B64(MD5(derived ":" nonce ":" B64(MD5(body)))) — OMA-TS-DM_Security §5.1.4. */
export function hmacMac(derived: string, nonce: Uint8Array, body: Uint8Array): string {
  return md5b64(utf8Encode(derived), COLON, nonce, COLON, utf8Encode(base64Encode(md5(body))));
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The value of the x-syncml-hmac header for a message body. */
export function hmacHeader(secret: Secret, nonce: Uint8Array, body: Uint8Array): string {
  return `algorithm=MD5, username=${quote(secret.user)}, mac=${hmacMac(requireDerived(secret), nonce, body)}`;
}

const MAX_HMAC_HEADER = 2048;

/**
 * Parses `algorithm=MD5, username="u", mac=...`. Tolerant of spacing, optional quotes,
 * key case and order (peers differ); unknown keys are ignored. Returns null for anything
 * without a username and a mac, duplicate keys, or unterminated quotes.
 * algorithm defaults to MD5, the only one the spec defines.
 */
export function parseHmacHeader(h: string): { algorithm: string; username: string; mac: string } | null {
  if (typeof h !== 'string' || h.length > MAX_HMAC_HEADER) return null;
  const fields = new Map<string, string>();
  let i = 0;
  const n = h.length;
  const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
  while (i < n) {
    while (i < n && (isSpace(h[i]) || h[i] === ',')) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && /[A-Za-z0-9_-]/.test(h[i]!)) i++;
    const key = h.slice(keyStart, i).toLowerCase();
    if (key === '') return null;
    while (i < n && isSpace(h[i])) i++;
    if (h[i] !== '=') return null;
    i++;
    while (i < n && isSpace(h[i])) i++;
    let value = '';
    if (h[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = h[i]!;
        if (c === '\\' && i + 1 < n) {
          value += h[i + 1];
          i += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed) return null;
    } else {
      const start = i;
      while (i < n && h[i] !== ',' && !isSpace(h[i])) i++;
      value = h.slice(start, i);
    }
    if (fields.has(key)) return null;
    fields.set(key, value);
    // After a value only separators may follow.
    while (i < n && isSpace(h[i])) i++;
    if (i < n && h[i] !== ',') return null;
  }
  const username = fields.get('username');
  const mac = fields.get('mac');
  if (username === undefined || mac === undefined || mac === '') return null;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(mac)) return null;
  return { algorithm: fields.get('algorithm') || 'MD5', username, mac };
}

/** Checks an x-syncml-hmac header against the exact body bytes received. */
export function verifyHmac(header: string | undefined, secret: Secret, nonce: Uint8Array, body: Uint8Array): boolean {
  if (header === undefined) return false;
  const parsed = parseHmacHeader(header);
  if (!parsed || parsed.algorithm.toUpperCase() !== 'MD5') return false;
  const derived = derivedOf(secret);
  if (derived === undefined) return false;
  const userOk = constantTimeStringEqual(parsed.username, secret.user);
  const macOk = digestEqual(parsed.mac, hmacMac(derived, nonce, body));
  return userOk && macOk;
}

/** A fresh nonce for a Chal: base64 of 16 random bytes. */
export function newNonce(): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  return base64Encode(b);
}

/**
 * The bytes that go into the digest for a NextNonce: its base64 decoding. '' gives an
 * empty nonce (which still keeps its ':' in the digest). A NextNonce that is not valid
 * base64 — some servers send plain text — is used as its UTF-8 bytes, which is what those
 * peers compute with.
 */
export function nonceBytes(nextNonce: string): Uint8Array {
  try {
    return base64Decode(nextNonce);
  } catch {
    return utf8Encode(nextNonce);
  }
}

/** The <Chal> asking for `scheme` with the nonce the peer must use next. */
export function makeChal(scheme: AuthScheme, nextNonce: string): Chal {
  return { meta: { type: AUTH_TYPE[scheme], format: 'b64', nextNonce } };
}
