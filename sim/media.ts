/**
 * Content for a handset's ringtones, wallpapers, screensavers and certificates that opens for
 * real: pictures that a browser draws (a small gradient, its colours drawn from the rng), sounds
 * that it plays (a WAV tone; an MP3 of silent frames), certificates an X.509 parser reads. Each
 * file is exactly the size asked for: the rest is deterministic pseudo-random bytes in a place
 * every decoder skips (a private PNG chunk, JPEG comments, a GIF comment, an ID3 private frame,
 * a WAV chunk of its own), so files stay distinct and exactly reproducible.
 */
import { deflateSync } from 'node:zlib';
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

function join(parts: Array<Uint8Array | number[]>): Uint8Array {
  const bytes = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(bytes.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of bytes) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Pictures are this small: the bytes asked for beyond them are padding. */
const PIC_W = 48;
const PIC_H = 32;

/** A diagonal gradient between two colours from the rng, as RGB rows. */
function picture(rng: Rng): (x: number, y: number) => [number, number, number] {
  const a = [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
  const b = [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
  return (x, y) => {
    const f = (x / (PIC_W - 1) + y / (PIC_H - 1)) / 2;
    return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
  };
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  be32(out, 0, data.length);
  out.set(utf8Encode(type), 4);
  out.set(data, 8);
  be32(out, 8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

function png(n: number, rng: Rng): Uint8Array {
  const px = picture(rng);
  const ihdr = new Uint8Array(13);
  be32(ihdr, 0, PIC_W);
  be32(ihdr, 4, PIC_H);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  // Each row with the Sub filter (1): a gradient's differences are small and deflate well.
  const row = 1 + PIC_W * 3;
  const raw = new Uint8Array(PIC_H * row);
  for (let y = 0; y < PIC_H; y++) {
    raw[y * row] = 1;
    let prev = [0, 0, 0];
    for (let x = 0; x < PIC_W; x++) {
      const c = px(x, y);
      raw.set(
        c.map((v, k) => (v - prev[k]! + 256) & 0xff),
        y * row + 1 + x * 3,
      );
      prev = c;
    }
  }
  const head = join([[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], pngChunk('IHDR', ihdr)]);
  const idat = pngChunk('IDAT', deflateSync(raw, { level: 9 }));
  const iend = pngChunk('IEND', new Uint8Array(0));
  // "rwNd": ancillary (lower-case first letter) and private, so every decoder skips it.
  const pad = Math.max(0, n - head.length - idat.length - iend.length - 12);
  return join([head, idat, pngChunk('rwNd', rng.bytes(pad)), iend]);
}

/**
 * A baseline JPEG of flat 8×8 blocks (only DC coefficients; every AC is end-of-block), YCbCr
 * without subsampling, quantisation 1 and two tiny Huffman tables: enough for any decoder.
 */
function jpeg(n: number, rng: Rng): Uint8Array {
  const px = picture(rng);
  const seg = (marker: number, body: Uint8Array | number[]) => {
    const b = body instanceof Uint8Array ? body : Uint8Array.from(body);
    return join([[0xff, marker, (b.length + 2) >> 8, (b.length + 2) & 0xff], b]);
  };
  const app0 = seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const dqt = seg(0xdb, [0, ...new Array<number>(64).fill(1)]);
  const sof = seg(0xc0, [8, PIC_H >> 8, PIC_H & 0xff, PIC_W >> 8, PIC_W & 0xff, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]);
  // DC: categories 0–11, four bits each (0000 … 1011). AC: only end-of-block, one bit (0).
  const dht = seg(0xc4, [
    0x00,
    0,
    0,
    0,
    12,
    ...new Array<number>(12).fill(0),
    ...Array.from({ length: 12 }, (_, i) => i),
    0x10,
    1,
    ...new Array<number>(15).fill(0),
    0x00,
  ]);
  const sos = seg(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]);
  const bits: number[] = [];
  const put = (v: number, len: number) => {
    for (let i = len - 1; i >= 0; i--) bits.push((v >> i) & 1);
  };
  const pred = [0, 0, 0];
  for (let by = 0; by < PIC_H / 8; by++)
    for (let bx = 0; bx < PIC_W / 8; bx++) {
      const [r, g, b] = px(bx * 8 + 4, by * 8 + 4);
      const ycc = [
        0.299 * r + 0.587 * g + 0.114 * b,
        128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
        128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
      ];
      ycc.forEach((level, c) => {
        const dc = Math.max(-1024, Math.min(1016, Math.round(8 * (level - 128))));
        const diff = dc - pred[c]!;
        pred[c] = dc;
        const size = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
        put(size, 4);
        if (size) put(diff > 0 ? diff : diff + (1 << size) - 1, size);
        put(0, 1); // end of block
      });
    }
  while (bits.length % 8) bits.push(1);
  const scan: number[] = [];
  for (let i = 0; i < bits.length; i += 8) {
    const byte = bits.slice(i, i + 8).reduce((a, bit) => (a << 1) | bit, 0);
    scan.push(byte);
    if (byte === 0xff) scan.push(0); // byte stuffing
  }
  const fixed = 2 + app0.length + dqt.length + sof.length + dht.length + sos.length + scan.length + 2;
  // Comments (up to 65,533 bytes each) make up the size; never one of fewer than 4 bytes.
  const comments: Uint8Array[] = [];
  for (let left = n - fixed; left >= 4;) {
    let take = Math.min(left, 65_537);
    if (left - take > 0 && left - take < 4) take -= 4;
    comments.push(seg(0xfe, rng.bytes(take - 4)));
    left -= take;
  }
  return join([[0xff, 0xd8], app0, ...comments, dqt, sof, dht, sos, scan, [0xff, 0xd9]]);
}

/**
 * A GIF of 4 colours whose LZW stream is a clear code before every two pixels, so the code
 * size never grows: valid for every decoder without an LZW encoder.
 */
function gif(n: number, rng: Rng): Uint8Array {
  const px = picture(rng);
  const palette = [px(0, 0), px(PIC_W / 3, PIC_H / 3), px((2 * PIC_W) / 3, (2 * PIC_H) / 3), px(PIC_W - 1, PIC_H - 1)];
  const head = join([
    utf8Encode('GIF89a'),
    [PIC_W, 0, PIC_H, 0, 0xf1, 0, 0], // global colour table of 4
    palette.flat(),
  ]);
  const codes: number[] = [];
  for (let i = 0; i < PIC_W * PIC_H; i++) {
    if (i % 2 === 0) codes.push(4); // clear
    const x = i % PIC_W;
    const y = Math.floor(i / PIC_W);
    codes.push(Math.min(3, Math.floor(((x / PIC_W + y / PIC_H) / 2) * 4)));
  }
  codes.push(5); // end of information
  const lzw: number[] = [];
  let acc = 0;
  let nbits = 0;
  for (const c of codes) {
    acc |= c << nbits;
    nbits += 3;
    while (nbits >= 8) {
      lzw.push(acc & 0xff);
      acc >>= 8;
      nbits -= 8;
    }
  }
  if (nbits) lzw.push(acc & 0xff);
  const blocks = (data: Uint8Array | number[]) => {
    const out: number[] = [];
    for (let i = 0; i < data.length; i += 255) {
      const part = [...data.slice(i, i + 255)];
      out.push(part.length, ...part);
    }
    return [...out, 0];
  };
  const image = join([[0x2c, 0, 0, 0, 0, PIC_W, 0, PIC_H, 0, 0, 2], blocks(lzw)]);
  // A comment extension makes up the size: its sub-blocks' data and length bytes sum to `sum`
  // (k blocks of 1–255 bytes each). A sum of 1 cannot be made: that file is a byte short.
  const sum = n - head.length - image.length - 1 - 3;
  const comment: number[] = [];
  if (sum >= 2) {
    const k = Math.ceil(sum / 256);
    const data = rng.bytes(sum - k);
    comment.push(0x21, 0xfe);
    for (let i = 0, left = data.length; i < k; i++) {
      const len = Math.ceil(left / (k - i));
      comment.push(len, ...data.subarray(data.length - left, data.length - left + len));
      left -= len;
    }
    comment.push(0);
  }
  return join([head, comment, image, [0x3b]]);
}

/** An MPEG-1 Layer III frame, 128 kbit/s, 44.1 kHz, no CRC: all-zero side information decodes to silence. */
const MP3_FRAME = 417;

function mp3(n: number, rng: Rng, title: string): Uint8Array {
  const frames = Math.max(1, Math.floor((n - 64) / MP3_FRAME / 2));
  const audio = new Uint8Array(frames * MP3_FRAME);
  for (let f = 0; f < frames; f++) audio.set([0xff, 0xfb, 0x90, 0x64], f * MP3_FRAME);
  const frame = (id: string, body: Uint8Array) => {
    const out = new Uint8Array(10 + body.length);
    out.set(utf8Encode(id), 0);
    be32(out, 4, body.length);
    out.set(body, 10);
    return out;
  };
  const tit2 = frame('TIT2', join([[0x03], utf8Encode(title.slice(0, 16))]));
  // A private frame (an owner, a NUL, bytes) makes up the size: players skip it.
  const owner = utf8Encode('rewind.sim\0');
  const priv = frame(
    'PRIV',
    join([owner, rng.bytes(Math.max(0, n - 10 - tit2.length - 10 - owner.length - audio.length))]),
  );
  const tag = tit2.length + priv.length;
  const head = Uint8Array.of(
    0x49,
    0x44,
    0x33,
    0x03,
    0,
    0,
    (tag >>> 21) & 0x7f,
    (tag >>> 14) & 0x7f,
    (tag >>> 7) & 0x7f,
    tag & 0x7f,
  );
  return join([head, tit2, priv, audio]);
}

/** 16-bit mono PCM at 8 kHz: a ringtone's two-note beep (notes from the rng), then a chunk of padding. */
function wav(n: number, rng: Rng): Uint8Array {
  const notes = [440 * 2 ** (rng.int(0, 12) / 12), 440 * 2 ** (rng.int(0, 12) / 12)];
  const samples = Math.max(0, Math.floor((n - 44 - 8) / 2 / 2));
  const out = new Uint8Array(Math.max(n, 44 + samples * 2 + 8));
  out.set(utf8Encode('RIFF'), 0);
  le32(out, 4, out.length - 8);
  out.set(utf8Encode('WAVEfmt '), 8);
  le32(out, 16, 16);
  le16(out, 20, 1); // PCM
  le16(out, 22, 1); // mono
  le32(out, 24, 8000);
  le32(out, 28, 16000);
  le16(out, 32, 2);
  le16(out, 34, 16);
  // The padding chunk first ("rwnd", skipped by players), so "data" runs to the end of the file.
  const pad = out.length - 44 - 8 - samples * 2;
  out.set(utf8Encode('rwnd'), 36);
  le32(out, 40, pad);
  rng.fill(out, 44, 44 + pad);
  const data = 44 + pad;
  out.set(utf8Encode('data'), data);
  le32(out, data + 4, samples * 2);
  for (let i = 0; i < samples; i++) {
    const t = i / 8000;
    const note = notes[Math.floor(t * 4) % 2]!;
    const gate = (t * 4) % 1 < 0.8 ? 1 : 0;
    const v = Math.round(Math.sin(2 * Math.PI * note * t) * 9000 * gate);
    le16(out, data + 8 + i * 2, v & 0xffff);
  }
  return out;
}

/** Smallest size each kind can be built at (its picture or sound and headers). */
export const MIN_MEDIA_BYTES: Record<MediaKind, number> = {
  png: 200,
  jpeg: 400,
  gif: 500,
  mp3: 1000,
  wav: 44,
  midi: 26,
};

/**
 * A file of exactly `size` bytes (or the kind's least) that opens for real: see the top of the
 * file. MIDI stays noise in a valid container (no browser plays MIDI anyway).
 */
export function mediaFile(kind: MediaKind, size: number, rng: Rng, title = ''): Uint8Array {
  const n = Math.max(size, MIN_MEDIA_BYTES[kind]);
  switch (kind) {
    case 'png':
      return png(n, rng);
    case 'jpeg':
      return jpeg(n, rng);
    case 'gif':
      return gif(n, rng);
    case 'mp3':
      return mp3(n, rng, title);
    case 'wav':
      return wav(n, rng);
    case 'midi': {
      const out = new Uint8Array(n);
      out.set(utf8Encode('MThd'), 0);
      be32(out, 4, 6);
      out.set([0x00, 0x00, 0x00, 0x01, 0x00, 0x60], 8);
      out.set(utf8Encode('MTrk'), 14);
      be32(out, 18, n - 22);
      // Body bytes below 0x80 read as running-status data; end with End of Track.
      rng.fill(out, 22, n - 4);
      for (let i = 22; i < n - 4; i++) out[i] = out[i]! & 0x7f;
      out.set([0x00, 0xff, 0x2f, 0x00], n - 4);
      return out;
    }
  }
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
