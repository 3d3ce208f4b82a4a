/**
 * Plausible binary content for a handset's ringtones, wallpapers, screensavers and
 * certificates: real file headers (so a preview, `file(1)` or an X.509 parser recognises
 * them) around deterministic pseudo-random bodies. Nothing here decodes to a meaningful
 * picture or tune; it only has to look like one and be exactly reproducible.
 */
import { utf8Encode } from '../lib/omadm/util/bytes';
import type { Rng } from './random';

export type MediaKind = 'png' | 'jpeg' | 'gif' | 'mp3' | 'wav' | 'midi';

export const MEDIA_MIME: Record<MediaKind, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  midi: 'audio/midi',
};

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 as PNG chunks use it. */
export function crc32(b: Uint8Array, from = 0, to = b.length): number {
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function be32(out: Uint8Array, at: number, v: number): void {
  out[at] = (v >>> 24) & 0xff;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

function le32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

function le16(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
}

/** Smallest size each kind can be built at (its fixed header and trailer). */
export const MIN_MEDIA_BYTES: Record<MediaKind, number> = { png: 57, jpeg: 24, gif: 14, mp3: 40, wav: 44, midi: 26 };

/**
 * A file of exactly `size` bytes: header, pseudo-random body, trailer. PNG chunks carry
 * correct lengths and CRCs; WAV and MIDI their correct sizes; JPEG starts with a JFIF
 * APP0 and ends with EOI; MP3 with an ID3v2.3 tag naming `title` and an MPEG frame sync.
 */
export function mediaFile(kind: MediaKind, size: number, rng: Rng, title = ''): Uint8Array {
  const n = Math.max(size, MIN_MEDIA_BYTES[kind]);
  const out = new Uint8Array(n);
  switch (kind) {
    case 'png': {
      out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
      // IHDR: 13 bytes of data.
      be32(out, 8, 13);
      out.set(utf8Encode('IHDR'), 12);
      const w = 240 + rng.int(0, 4) * 120;
      be32(out, 16, w);
      be32(out, 20, Math.round((w * 16) / 9));
      out.set([8, 2, 0, 0, 0], 24); // 8-bit RGB, deflate, no filter, no interlace
      be32(out, 29, crc32(out, 12, 29));
      // IDAT with the body, then IEND.
      const idatLen = n - 33 - 12 - 12;
      be32(out, 33, idatLen);
      out.set(utf8Encode('IDAT'), 37);
      rng.fill(out, 41, 41 + idatLen);
      be32(out, 41 + idatLen, crc32(out, 37, 41 + idatLen));
      const iend = n - 12;
      be32(out, iend, 0);
      out.set(utf8Encode('IEND'), iend + 4);
      be32(out, iend + 8, crc32(out, iend + 4, iend + 8));
      break;
    }
    case 'jpeg': {
      out.set(
        [
          0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
          0x00, 0x00,
        ],
        0,
      );
      rng.fill(out, 20, n - 2);
      out[n - 2] = 0xff;
      out[n - 1] = 0xd9;
      break;
    }
    case 'gif': {
      out.set(utf8Encode('GIF89a'), 0);
      le16(out, 6, 240);
      le16(out, 8, 320);
      out.set([0x00, 0x00, 0x00], 10);
      rng.fill(out, 13, n - 1);
      out[n - 1] = 0x3b;
      break;
    }
    case 'mp3': {
      // ID3v2.3 with one TIT2 frame (title), then MPEG-1 Layer III frames.
      const t = utf8Encode(title.slice(0, 16));
      const frame = 10 + 1 + t.length;
      out.set([0x49, 0x44, 0x33, 0x03, 0x00, 0x00], 0);
      // Tag size as a 28-bit syncsafe integer.
      out[6] = (frame >>> 21) & 0x7f;
      out[7] = (frame >>> 14) & 0x7f;
      out[8] = (frame >>> 7) & 0x7f;
      out[9] = frame & 0x7f;
      out.set(utf8Encode('TIT2'), 10);
      be32(out, 14, 1 + t.length);
      out[20] = 0x03; // UTF-8 text encoding byte
      out.set(t, 21);
      const sync = 10 + frame;
      out.set([0xff, 0xfb, 0x90, 0x64], sync);
      rng.fill(out, sync + 4, n);
      break;
    }
    case 'wav': {
      out.set(utf8Encode('RIFF'), 0);
      le32(out, 4, n - 8);
      out.set(utf8Encode('WAVEfmt '), 8);
      le32(out, 16, 16);
      le16(out, 20, 1); // PCM
      le16(out, 22, 1); // mono
      le32(out, 24, 8000);
      le32(out, 28, 16000);
      le16(out, 32, 2);
      le16(out, 34, 16);
      out.set(utf8Encode('data'), 36);
      le32(out, 40, n - 44);
      rng.fill(out, 44, n);
      break;
    }
    case 'midi': {
      out.set(utf8Encode('MThd'), 0);
      be32(out, 4, 6);
      out.set([0x00, 0x00, 0x00, 0x01, 0x00, 0x60], 8);
      out.set(utf8Encode('MTrk'), 14);
      be32(out, 18, n - 22);
      // Body bytes below 0x80 read as running-status data; end with End of Track.
      rng.fill(out, 22, n - 4);
      for (let i = 22; i < n - 4; i++) out[i] = out[i]! & 0x7f;
      out.set([0x00, 0xff, 0x2f, 0x00], n - 4);
      break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// X.509 certificates (DER). Structurally valid; the signature is random bytes.

function derLen(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

function tlv(tag: number, content: Uint8Array | number[]): Uint8Array {
  const c = content instanceof Uint8Array ? content : Uint8Array.from(content);
  const len = derLen(c.length);
  const out = new Uint8Array(1 + len.length + c.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(c, 1 + len.length);
  return out;
}

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const OID_SHA256_RSA = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const OID_RSA = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_CN = [0x06, 0x03, 0x55, 0x04, 0x03];
const OID_O = [0x06, 0x03, 0x55, 0x04, 0x0a];
const NULL = [0x05, 0x00];

function name(cn: string, o: string): Uint8Array {
  const rdn = (oid: number[], v: string) => tlv(0x31, tlv(0x30, cat(Uint8Array.from(oid), tlv(0x0c, utf8Encode(v)))));
  return tlv(0x30, cat(rdn(OID_O, o), rdn(OID_CN, cn)));
}

function utcTime(d: { y: number; m: number; day: number }): Uint8Array {
  const p = (n: number) => String(n).padStart(2, '0');
  return tlv(0x17, utf8Encode(`${p(d.y % 100)}${p(d.m)}${p(d.day)}000000Z`));
}

export interface CertSpec {
  subjectCN: string;
  subjectO: string;
  issuerCN: string;
  issuerO: string;
  /** Validity years, e.g. 2024..2034; month/day drawn from the rng. */
  fromYear: number;
  toYear: number;
}

/** A DER-encoded X.509 v3 certificate with a random RSA-2048-sized key and signature. */
export function certificateDer(spec: CertSpec, rng: Rng): Uint8Array {
  const serial = rng.bytes(12);
  serial[0] = serial[0]! & 0x7f || 0x01; // positive, no leading zero byte
  const modulus = rng.bytes(256);
  modulus[0] = modulus[0]! | 0x80;
  const m = rng.int(1, 12);
  const day = rng.int(1, 28);
  const rsaKey = tlv(0x30, cat(tlv(0x02, cat(Uint8Array.of(0), modulus)), tlv(0x02, [0x01, 0x00, 0x01])));
  const spki = tlv(
    0x30,
    cat(tlv(0x30, Uint8Array.from([...OID_RSA, ...NULL])), tlv(0x03, cat(Uint8Array.of(0), rsaKey))),
  );
  const algo = tlv(0x30, Uint8Array.from([...OID_SHA256_RSA, ...NULL]));
  const tbs = tlv(
    0x30,
    cat(
      tlv(0xa0, tlv(0x02, [0x02])), // version v3
      tlv(0x02, serial),
      algo,
      name(spec.issuerCN, spec.issuerO),
      tlv(0x30, cat(utcTime({ y: spec.fromYear, m, day }), utcTime({ y: spec.toYear, m, day }))),
      name(spec.subjectCN, spec.subjectO),
      spki,
    ),
  );
  return tlv(0x30, cat(tbs, algo, tlv(0x03, cat(Uint8Array.of(0), rng.bytes(256)))));
}
