/** The demo's media open for real: pictures decode to their pixels, sounds carry real samples, sizes are exact. */
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, mediaFile, type MediaKind } from './media';
import { Rng } from './random';

const at = (b: Uint8Array, i: number) => Buffer.from(b).readUInt32BE(i);

describe('mediaFile', () => {
  it('makes every kind at exactly the size asked, and different bytes from different streams', () => {
    for (const kind of ['png', 'jpeg', 'gif', 'mp3', 'wav', 'midi'] as MediaKind[])
      for (const size of [2_000, 4_099, 65_600, 300_000]) {
        const b = mediaFile(kind, size, new Rng(size), 'Marimba');
        expect(b.length, `${kind} ${size}`).toBe(size);
        expect(Buffer.from(b).equals(Buffer.from(mediaFile(kind, size, new Rng(size + 1), 'Marimba')))).toBe(false);
      }
  });

  it('makes a PNG whose chunks check out and whose pixels inflate to the whole picture', () => {
    const b = mediaFile('png', 10_000, new Rng(1));
    const chunks: Array<{ type: string; data: Uint8Array }> = [];
    for (let o = 8; o < b.length;) {
      const len = at(b, o);
      const type = Buffer.from(b.subarray(o + 4, o + 8)).toString();
      expect(at(b, o + 8 + len), type).toBe(crc32(b, o + 4, o + 8 + len));
      chunks.push({ type, data: b.subarray(o + 8, o + 8 + len) });
      o += 12 + len;
    }
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'rwNd', 'IEND']);
    const [w, h] = [at(chunks[0]!.data, 0), at(chunks[0]!.data, 4)];
    expect(inflateSync(chunks[1]!.data)).toHaveLength(h * (1 + w * 3));
  });

  it('makes a baseline JPEG with its tables, a scan and the end marker', () => {
    const b = Buffer.from(mediaFile('jpeg', 5_000, new Rng(2)));
    for (const marker of [0xd8, 0xe0, 0xfe, 0xdb, 0xc0, 0xc4, 0xda])
      expect(b.includes(Buffer.of(0xff, marker))).toBe(true);
    expect([...b.subarray(-2)]).toEqual([0xff, 0xd9]);
  });

  it('makes sounds with real audio: WAV samples of a tone, MP3 frames after the tag', () => {
    const w = Buffer.from(mediaFile('wav', 20_000, new Rng(3)));
    const data = w.indexOf('data', 36);
    expect(w.readUInt32LE(data + 4)).toBe(w.length - data - 8);
    const samples = Array.from({ length: 200 }, (_, i) => w.readInt16LE(data + 8 + i * 2));
    expect(Math.max(...samples)).toBeGreaterThan(5_000);
    const m = Buffer.from(mediaFile('mp3', 20_000, new Rng(4), 'Marimba'));
    const tag = 10 + ((m[6]! << 21) | (m[7]! << 14) | (m[8]! << 7) | m[9]!);
    expect([...m.subarray(tag, tag + 4)]).toEqual([0xff, 0xfb, 0x90, 0x64]);
    expect((m.length - tag) % 417).toBe(0);
  });
});
