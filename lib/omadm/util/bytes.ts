/**
 * Byte helpers without Node's Buffer, so the engine runs anywhere a Uint8Array does.
 */
const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

export function utf8Encode(s: string): Uint8Array {
  return encoder.encode(s);
}

/**
 * The UTF-8 byte length of `s` (or of its code units from..end), without encoding it: a lone
 * surrogate counts 3, as TextEncoder writes it (U+FFFD).
 */
export function utf8Length(s: string, from = 0, end = s.length): number {
  let n = 0;
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** Decodes UTF-8, throwing TypeError on invalid sequences when `strict` (the default). */
export function utf8Decode(b: Uint8Array, strict = true): string {
  return (strict ? strictDecoder : lenientDecoder).decode(b);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(256).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

const B64_CODES = Uint8Array.from(B64, (c) => c.charCodeAt(0));

/**
 * The host's own base64, when it has one (Uint8Array.prototype.toBase64 where engines ship
 * it; Node's Buffer), found by feature detection rather than imported, so the engine still
 * runs anywhere: fifty times faster on the megabytes of Large Objects and backups.
 */
const hostBase64: ((b: Uint8Array) => string) | undefined = (() => {
  const proto = Uint8Array.prototype as { toBase64?: () => string };
  if (typeof proto.toBase64 === 'function')
    return (b: Uint8Array) => (b as unknown as { toBase64(): string }).toBase64();
  const host = (
    globalThis as { Buffer?: { from(a: ArrayBufferLike, o: number, l: number): { toString(enc: string): string } } }
  ).Buffer;
  if (host && typeof host.from === 'function')
    return (b: Uint8Array) => host.from(b.buffer, b.byteOffset, b.length).toString('base64');
  return undefined;
})();
const asciiDecoder = new TextDecoder('utf-8');

/**
 * Base64 of `b`. The characters are written as bytes and decoded once: building the string
 * a character at a time made megabyte values (Large Objects, backup content) spend most of
 * their time collecting garbage.
 */
export function base64Encode(b: Uint8Array): string {
  return hostBase64 && b.length > 4096 ? hostBase64(b) : base64EncodePortable(b);
}

/** The same in plain TypeScript, for hosts without a base64 of their own. */
export function base64EncodePortable(b: Uint8Array): string {
  const n = b.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out[o++] = B64_CODES[v >> 18]!;
    out[o++] = B64_CODES[(v >> 12) & 63]!;
    out[o++] = B64_CODES[(v >> 6) & 63]!;
    out[o++] = B64_CODES[v & 63]!;
  }
  if (i < n) {
    const v = (b[i]! << 16) | ((i + 1 < n ? b[i + 1]! : 0) << 8);
    out[o++] = B64_CODES[v >> 18]!;
    out[o++] = B64_CODES[(v >> 12) & 63]!;
    out[o++] = i + 1 < n ? B64_CODES[(v >> 6) & 63]! : 61;
    out[o++] = 61;
  }
  return asciiDecoder.decode(out);
}

/**
 * The host's own base64 decoder, found the same way (Uint8Array.fromBase64; Node's Buffer),
 * for megabyte-sized text, where the portable loop below cost a restore of 10 MB most of its
 * time. Hosts are lenient: Node skips characters outside the alphabet (whitespace included)
 * and stops at a stray '=', which leaves the output short, and takes the URL-safe '-' and
 * '_'. So its answer is kept only when it has exactly the length plain base64 of that text
 * decodes to and neither of those two characters occurs; anything else goes the portable
 * way, which decodes whitespace and names the first bad character.
 */
const hostBase64Decode: ((s: string) => Uint8Array) | undefined = (() => {
  const ctor = Uint8Array as { fromBase64?: (s: string) => Uint8Array };
  if (typeof ctor.fromBase64 === 'function')
    return (s: string) => {
      try {
        return ctor.fromBase64!(s);
      } catch {
        return new Uint8Array(0);
      }
    };
  const host = (globalThis as { Buffer?: { from(s: string, enc: string): Uint8Array } }).Buffer;
  if (host && typeof host.from === 'function')
    return (s: string) => {
      const b = host.from(s, 'base64');
      return new Uint8Array(b.buffer, b.byteOffset, b.length);
    };
  return undefined;
})();

/** Decodes base64, ignoring whitespace. Throws on any other invalid character. */
export function base64Decode(s: string): Uint8Array {
  if (hostBase64Decode && s.length > 4096 && s.length % 4 === 0) {
    const pad = s.charCodeAt(s.length - 1) === 61 ? (s.charCodeAt(s.length - 2) === 61 ? 2 : 1) : 0;
    const out = hostBase64Decode(s);
    if (out.length === (s.length / 4) * 3 - pad && s.indexOf('-') < 0 && s.indexOf('_') < 0) return out;
  }
  return base64DecodePortable(s);
}

/** The same in plain TypeScript, for hosts without a base64 of their own (and for text with whitespace). */
export function base64DecodePortable(s: string): Uint8Array {
  const out = new Uint8Array(Math.floor((s.length * 3) / 4) + 3);
  let o = 0;
  let i = 0;
  // Fast path: whole groups of four plain characters (what we and most peers send).
  const n = s.length;
  for (; i + 4 <= n; i += 4) {
    const a = B64_INDEX[s.charCodeAt(i) & 0xff]!;
    const b = B64_INDEX[s.charCodeAt(i + 1) & 0xff]!;
    const c = B64_INDEX[s.charCodeAt(i + 2) & 0xff]!;
    const d = B64_INDEX[s.charCodeAt(i + 3) & 0xff]!;
    if (
      (a | b | c | d) < 0 ||
      s.charCodeAt(i) > 255 ||
      s.charCodeAt(i + 1) > 255 ||
      s.charCodeAt(i + 2) > 255 ||
      s.charCodeAt(i + 3) > 255
    )
      break;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  // The rest (padding, whitespace, or an invalid character to report) one at a time.
  let acc = 0;
  let bits = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 61 /* = */) break;
    if (c === 32 || c === 10 || c === 13 || c === 9) continue;
    const v = c < 256 ? B64_INDEX[c]! : -1;
    if (v < 0) throw new TypeError(`invalid base64 character at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}
