import { describe, expect, it } from 'vitest';
import type { Item } from '../message';
import { bytesEqual, utf8Encode } from '../util/bytes';
import { endMessage, newLargeObjectState, noEndOfDataAlert, receiveChunk, type LargeObjectState } from './large-object';

const roundTrip = (lo: LargeObjectState): LargeObjectState => JSON.parse(JSON.stringify(lo)) as LargeObjectState;

function chunk(uri: string, data: string | Uint8Array, more: boolean, size?: number): Item {
  const item: Item = { source: { locURI: uri }, data, meta: { format: 'b64' } };
  if (size !== undefined) item.meta!.size = size;
  if (more) item.moreData = true;
  return item;
}

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) globalThis.crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
  return b;
}

describe('receiveChunk', () => {
  it('passes ordinary items through as single', () => {
    const r = receiveChunk(newLargeObjectState(), 'Results', { source: { locURI: './a' }, data: 'x' }, 1000);
    expect(r.outcome).toEqual({ kind: 'single' });
    expect(r.lo.current).toBeUndefined();
  });

  it('reassembles byte chunks exactly, 213 for each non-last chunk, through JSON', () => {
    const whole = randomBytes(200_000);
    let lo = newLargeObjectState();
    const parts = [whole.subarray(0, 70_000), whole.subarray(70_000, 140_000), whole.subarray(140_000)];
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      const r = receiveChunk(
        lo,
        'Results',
        chunk('./Big', parts[i]!.slice(), !last, i === 0 ? whole.length : undefined),
        1 << 20,
      );
      lo = roundTrip(r.lo);
      if (!last) {
        expect(r.outcome).toEqual({ kind: 'chunk', status: 213 });
        lo = roundTrip(endMessage(lo).lo);
      } else {
        expect(r.outcome.kind).toBe('complete');
        if (r.outcome.kind !== 'complete') return;
        expect(bytesEqual(r.outcome.item.data as Uint8Array, whole)).toBe(true);
        expect(r.outcome.item.moreData).toBeUndefined();
        expect(r.outcome.item.meta).toEqual({ format: 'b64' }); // Size removed, Format kept
        expect(r.outcome.item.source).toEqual({ locURI: './Big' });
      }
    }
    expect(lo.current).toBeUndefined();
  });

  it('joins text chunks as text and measures Size in UTF-8 bytes', () => {
    const text = 'héllo wörld ✓'.repeat(10);
    const bytes = utf8Encode(text).length;
    let lo = newLargeObjectState();
    const r1 = receiveChunk(
      lo,
      'Replace',
      { target: { locURI: './T' }, data: text.slice(0, 50), moreData: true, meta: { size: bytes } },
      10_000,
    );
    expect(r1.outcome.kind).toBe('chunk');
    lo = roundTrip(r1.lo);
    const r2 = receiveChunk(lo, 'Replace', { target: { locURI: './T' }, data: text.slice(50) }, 10_000);
    expect(r2.outcome).toMatchObject({ kind: 'complete', item: { data: text, target: { locURI: './T' } } });
  });

  it('answers 424 when the total differs from Meta Size', () => {
    let lo = newLargeObjectState();
    lo = receiveChunk(lo, 'Results', chunk('./X', 'AAAA', true, 12), 100).lo;
    const r = receiveChunk(roundTrip(lo), 'Results', chunk('./X', 'BBBB', false), 100);
    expect(r.outcome).toEqual({ kind: 'error', status: 424, reason: 'size-mismatch' });
    expect(r.lo.current).toBeUndefined();
  });

  it('accepts b64 data whose Size is the decoded length (some peers count that way)', () => {
    let lo = receiveChunk(newLargeObjectState(), 'Results', chunk('./X', 'AAAA', true, 6), 100).lo;
    const r = receiveChunk(lo, 'Results', chunk('./X', 'BBBB', false), 100);
    expect(r.outcome).toMatchObject({ kind: 'complete', item: { data: 'AAAABBBB' } });
    lo = receiveChunk(newLargeObjectState(), 'Results', chunk('./X', 'AAAA', true, 7), 100).lo;
    expect(receiveChunk(lo, 'Results', chunk('./X', 'BBB=', false), 100).outcome).toMatchObject({
      kind: 'error',
      status: 424,
    });
  });

  it('answers 424 as soon as the received bytes exceed Meta Size', () => {
    let lo = receiveChunk(
      newLargeObjectState(),
      'Results',
      { source: { locURI: './X' }, data: 'AAAA', moreData: true, meta: { format: 'chr', size: 6 } },
      100,
    ).lo;
    const r = receiveChunk(lo, 'Results', { source: { locURI: './X' }, data: 'BBBB', moreData: true }, 100);
    expect(r.outcome).toMatchObject({ kind: 'error', status: 424 });
    lo = r.lo;
    expect(lo.current).toBeUndefined();
  });

  it('refuses an object above our MaxObjSize with 413 before storing anything', () => {
    const r = receiveChunk(newLargeObjectState(), 'Results', chunk('./X', 'AAAA', true, 1_000_001), 1_000_000);
    expect(r.outcome).toEqual({ kind: 'error', status: 413, reason: 'too-large' });
    expect(r.lo.current).toBeUndefined();
  });

  it('refuses with 413 when an object without Size grows beyond MaxObjSize', () => {
    let lo = receiveChunk(newLargeObjectState(), 'Results', chunk('./X', 'A'.repeat(60), true), 100).lo;
    expect(lo.current?.received).toBe(60);
    const r = receiveChunk(lo, 'Results', chunk('./X', 'A'.repeat(60), true), 100);
    expect(r.outcome).toMatchObject({ kind: 'error', status: 413 });
    lo = r.lo;
    expect(lo.current).toBeUndefined();
  });

  it('reports the old object as abandoned (Alert 1225) when a new one starts', () => {
    const lo = receiveChunk(newLargeObjectState(), 'Results', chunk('./A', 'AAAA', true, 8), 100).lo;
    const r = receiveChunk(lo, 'Results', chunk('./B', 'BBBB', true, 8), 100);
    expect(r.abandoned?.uri).toBe('./A');
    expect(r.outcome.kind).toBe('chunk');
    expect(r.lo.current?.uri).toBe('./B');
    const alert = noEndOfDataAlert(r.abandoned!);
    expect(alert).toMatchObject({ kind: 'Alert', data: '1225', items: [{ source: { locURI: './A' } }] });
  });

  it('reports the old object as abandoned when an ordinary item arrives instead of its next chunk', () => {
    const lo = receiveChunk(newLargeObjectState(), 'Results', chunk('./A', 'AAAA', true, 8), 100).lo;
    const r = receiveChunk(lo, 'Results', { source: { locURI: './other' }, data: 'x' }, 100);
    expect(r.abandoned?.uri).toBe('./A');
    expect(r.outcome).toEqual({ kind: 'single' });
    expect(r.lo.current).toBeUndefined();
  });

  it('keys objects by command kind too', () => {
    const lo = receiveChunk(newLargeObjectState(), 'Results', chunk('./A', 'AAAA', true, 8), 100).lo;
    const r = receiveChunk(lo, 'Replace', chunk('./A', 'BBBB', false), 100);
    expect(r.abandoned?.kind).toBe('Results');
    expect(r.outcome).toEqual({ kind: 'single' });
  });

  it('abandons an object that gets no chunk in a whole message', () => {
    let lo = receiveChunk(newLargeObjectState(), 'Results', chunk('./A', 'AAAA', true, 12), 100).lo;
    let e = endMessage(lo); // message that started it
    expect(e.abandoned).toBeUndefined();
    lo = receiveChunk(roundTrip(e.lo), 'Results', chunk('./A', 'BBBB', true), 100).lo;
    e = endMessage(lo);
    expect(e.abandoned).toBeUndefined();
    e = endMessage(roundTrip(e.lo)); // a message without a chunk
    expect(e.abandoned?.uri).toBe('./A');
    expect(e.lo.current).toBeUndefined();
  });

  it('refuses nested XML data as a chunk', () => {
    const r = receiveChunk(
      newLargeObjectState(),
      'Results',
      { source: { locURI: './A' }, moreData: true, data: [{ name: 'x', children: [] }] },
      100,
    );
    expect(r.outcome.kind).toBe('error');
  });
});
