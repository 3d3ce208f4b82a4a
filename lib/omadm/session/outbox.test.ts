import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../codec/index';
import type { Command, Encoding, Item, Replace, Results, Status, SyncHdr, SyncMLMessage } from '../message';
import { base64Decode, base64Encode, bytesEqual, concatBytes, utf8Encode } from '../util/bytes';
import {
  enqueue,
  enqueueReplies,
  freeze,
  hasPending,
  newOutbox,
  nextMessage,
  noteStatus,
  thaw,
  abandonLargeObject,
  type Limits,
  type OutboxState,
  type PackedMessage,
} from './outbox';

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function hdr(msgId: number): SyncHdr {
  return {
    verDTD: '1.2',
    verProto: 'DM/1.2',
    sessionId: '42',
    msgId,
    target: { locURI: 'IMEI:493005100592800' },
    source: { locURI: 'rewind-server' },
    meta: { maxMsgSize: 65536, maxObjSize: 4_000_000 },
  };
}

function replace(path: string, data: string | Uint8Array, format = 'chr'): Replace {
  return { kind: 'Replace', cmdId: 0, items: [{ target: { locURI: path }, meta: { format }, data }] };
}

function status(msgRef: number, cmdRef: number, code: number): Status {
  return { kind: 'Status', cmdId: 0, msgRef, cmdRef, cmd: 'Replace', data: String(code) };
}

/** Packs one message, checks its encoded size against the limit, and decodes it back. */
function pack(
  ob: OutboxState,
  msgId: number,
  limits: Limits,
  encoding: Encoding,
  counter: { n: number },
  replies: Command[] = [],
) {
  const h = hdr(msgId);
  const packed = nextMessage(json(ob), h, replies, limits, encoding, () => counter.n++);
  const msg: SyncMLMessage = { hdr: h, body: { commands: packed.commands, final: packed.drained } };
  const bytes = encodeMessage(msg, encoding);
  expect(bytes.length).toBeLessThanOrEqual(limits.maxMsgSize);
  const decoded = decodeMessage(bytes, encoding);
  return { packed: json(packed) as PackedMessage, decoded, bytes };
}

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) globalThis.crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
  return b;
}

function itemData(cmd: Command): Item {
  return (cmd as Replace).items[0]!;
}

describe('freeze/thaw', () => {
  it('round-trips commands with byte data through JSON', () => {
    const cmd = replace('./a', new Uint8Array([0, 1, 255]), 'bin');
    const back = thaw<Replace>(json(freeze(cmd)));
    expect(back.items[0]!.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(back.items[0]!.data as Uint8Array)).toEqual([0, 1, 255]);
    expect(back).toEqual(cmd);
  });
});

describe.each(['xml', 'wbxml'] as const)('nextMessage (%s)', (encoding) => {
  it('splits 300 Replace commands across messages of at most 4 KB; Final only on the last', () => {
    let ob = enqueue(
      newOutbox(),
      Array.from({ length: 300 }, (_, i) => ({
        cmd: replace(`./Vendor/Setting/${i}`, `value-${i}-`.repeat(5)),
        tag: `w${i}`,
      })),
    );
    const limits = { maxMsgSize: 4096 };
    const counter = { n: 1 };
    const seen: string[] = [];
    let messages = 0;
    for (let msgId = 1; msgId < 100; msgId++) {
      const { packed, decoded } = pack(ob, msgId, limits, encoding, counter);
      ob = packed.ob;
      messages++;
      expect(packed.commands.length).toBeGreaterThan(0);
      const ids = packed.commands.map((c) => c.cmdId);
      expect(new Set(ids).size).toBe(ids.length);
      for (const c of decoded.body.commands) seen.push(itemData(c).target!.locURI);
      for (const r of packed.sent) expect(r.msgId).toBe(msgId);
      expect(packed.sent.map((r) => r.tag)).toEqual(
        packed.commands.map((c) => `w${itemData(c).target!.locURI.split('/').pop()}`),
      );
      expect(decoded.body.final).toBe(!hasPending(ob));
      if (packed.drained) break;
    }
    expect(messages).toBeGreaterThan(3);
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => `./Vendor/Setting/${i}`));
  });

  it('puts replies before new commands and carries leftover replies to the next message', () => {
    let ob = enqueue(newOutbox(), [{ cmd: replace('./x', 'y'), tag: 't' }]);
    const replies = Array.from({ length: 80 }, (_, i) => status(1, i + 1, 200));
    const counter = { n: 1 };
    const first = pack(ob, 1, { maxMsgSize: 2048 }, encoding, counter, replies);
    ob = first.packed.ob;
    expect(first.packed.commands.every((c) => c.kind === 'Status')).toBe(true);
    expect(first.decoded.body.final).toBe(false);
    let rest = first.packed.commands.length;
    for (let m = 2; m < 20 && hasPending(ob); m++) {
      const p = pack(ob, m, { maxMsgSize: 2048 }, encoding, counter);
      ob = p.packed.ob;
      const kinds = p.packed.commands.map((c) => c.kind);
      // Never a Status after the Replace.
      expect(kinds.join(',')).toMatch(/^(Status,)*(Status|Replace)?$/);
      rest += kinds.filter((k) => k === 'Status').length;
    }
    expect(rest).toBe(80);
    expect(hasPending(ob)).toBe(false);
  });

  it('splits a multi-item command that does not fit into one command per item', () => {
    const items: Item[] = Array.from({ length: 60 }, (_, i) => ({
      target: { locURI: `./Multi/${i}` },
      data: 'v'.repeat(40),
    }));
    let ob = enqueue(newOutbox(), [{ cmd: { kind: 'Add', cmdId: 0, items }, tag: 'add' }]);
    const counter = { n: 1 };
    const paths: string[] = [];
    for (let m = 1; m < 20 && hasPending(ob); m++) {
      const p = pack(ob, m, { maxMsgSize: 2048 }, encoding, counter);
      ob = p.packed.ob;
      for (const c of p.decoded.body.commands) for (const it of (c as Replace).items) paths.push(it.target!.locURI);
    }
    expect(paths).toEqual(items.map((i) => i.target!.locURI));
  });

  it('never splits an Atomic; one larger than a message fails', () => {
    const small: Command = { kind: 'Atomic', cmdId: 0, commands: [replace('./a', '1'), replace('./b', '2')] };
    const big: Command = {
      kind: 'Atomic',
      cmdId: 0,
      commands: Array.from({ length: 100 }, (_, i) => replace(`./big/${i}`, 'x'.repeat(50))),
    };
    const ob = enqueue(newOutbox(), [
      { cmd: big, tag: 'big' },
      { cmd: small, tag: 'small' },
    ]);
    const { packed, decoded } = pack(ob, 1, { maxMsgSize: 2048 }, encoding, { n: 1 });
    expect(packed.failed).toEqual([
      { tag: 'big', kind: 'Atomic', paths: [], status: 413, reason: 'too-large-for-message' },
    ]);
    expect(decoded.body.commands).toHaveLength(1);
    const atomic = decoded.body.commands[0]!;
    expect(atomic.kind).toBe('Atomic');
    if (atomic.kind !== 'Atomic') return;
    expect(atomic.commands.map((c) => c.cmdId)).toEqual([2, 3]);
    // Nested commands get their own records, pointing at the Atomic.
    expect(packed.sent.map((r) => [r.kind, r.cmdId, r.parent])).toEqual([
      ['Atomic', 1, undefined],
      ['Replace', 2, 1],
      ['Replace', 3, 1],
    ]);
    expect(packed.drained).toBe(true);
  });

  it('sends a 2 MB Replace as a Large Object, one chunk per message, each after a 213', () => {
    const value = randomBytes(2 * 1024 * 1024);
    // WBXML carries raw bytes (format bin); XML carries base64 text (format b64).
    const data = encoding === 'wbxml' ? value : base64Encode(value);
    const format = encoding === 'wbxml' ? 'bin' : 'b64';
    let ob = enqueue(newOutbox(), [
      { cmd: replace('./Ext/Big', data, format), tag: 'big' },
      { cmd: replace('./after', 'z'), tag: 'after' },
    ]);
    const limits = { maxMsgSize: 128 * 1024, maxObjSize: 4 * 1024 * 1024 };
    const counter = { n: 1 };
    const chunks: (string | Uint8Array)[] = [];
    let msgId = 1;
    let sawAfter = false;
    for (; msgId < 200; msgId++) {
      const { packed, decoded } = pack(ob, msgId, limits, encoding, counter);
      ob = packed.ob;
      const cmds = decoded.body.commands;
      const chunkCmd = cmds.find((c) => c.kind === 'Replace' && itemData(c).target!.locURI === './Ext/Big');
      if (cmds.some((c) => c.kind === 'Replace' && itemData(c).target!.locURI === './after')) {
        sawAfter = true;
        expect(chunkCmd === undefined || !itemData(chunkCmd).moreData).toBe(true);
      }
      if (!chunkCmd) break;
      const item = itemData(chunkCmd);
      chunks.push(item.data as string | Uint8Array);
      if (chunks.length === 1)
        expect(item.meta?.size).toBe(encoding === 'wbxml' ? value.length : (data as string).length);
      else expect(item.meta?.size).toBeUndefined();
      expect(item.meta?.format).toBe(format);
      if (!item.moreData) {
        expect(decoded.body.final).toBe(true);
        break;
      }
      expect(decoded.body.final).toBe(false);
      // Without the 213 nothing more of the object goes out.
      const again = pack(ob, msgId + 1000, limits, encoding, { n: 1 });
      expect(again.packed.commands).toHaveLength(0);
      const rec = packed.sent.find((r) => r.chunk === 'more')!;
      expect(rec).toMatchObject({ tag: 'big', kind: 'Replace', paths: ['./Ext/Big'] });
      const ack = noteStatus(json(ob), msgId, rec.cmdId, 213);
      expect(ack.matched).toBe(true);
      ob = ack.ob;
    }
    expect(chunks.length).toBeGreaterThan(10);
    expect(sawAfter).toBe(true);
    const whole =
      encoding === 'wbxml' ? concatBytes(chunks as Uint8Array[]) : base64Decode((chunks as string[]).join(''));
    expect(bytesEqual(whole, value)).toBe(true);
    if (encoding === 'xml') for (const c of chunks as string[]) expect(c.length % 4).toBe(0);
  });

  it('refuses a Large Object above the peer MaxObjSize without sending anything', () => {
    const ob = enqueue(newOutbox(), [{ cmd: replace('./Big', 'x'.repeat(50_000)), tag: 'big' }]);
    const { packed } = pack(ob, 1, { maxMsgSize: 8192, maxObjSize: 20_000 }, encoding, { n: 1 });
    expect(packed.commands).toHaveLength(0);
    expect(packed.failed).toEqual([
      { tag: 'big', kind: 'Replace', paths: ['./Big'], status: 413, reason: 'exceeds-max-obj-size' },
    ]);
    expect(packed.drained).toBe(true);
  });

  it('abandons the object when the peer answers a chunk with an error', () => {
    let ob = enqueue(newOutbox(), [{ cmd: replace('./Big', 'x'.repeat(50_000)), tag: 'big' }]);
    const { packed } = pack(ob, 1, { maxMsgSize: 8192 }, encoding, { n: 1 });
    ob = packed.ob;
    const rec = packed.sent[0]!;
    expect(rec.chunk).toBe('more');
    expect(noteStatus(ob, 1, rec.cmdId + 1, 213).matched).toBe(false);
    const r = noteStatus(ob, 1, rec.cmdId, 420);
    expect(r.failed).toMatchObject({ tag: 'big', status: 420 });
    expect(hasPending(r.ob)).toBe(false);
  });

  it('drops an object on request (peer Alert 1225)', () => {
    let ob = enqueue(newOutbox(), [{ cmd: replace('./Big', 'x'.repeat(50_000)), tag: 'big' }]);
    ob = pack(ob, 1, { maxMsgSize: 8192 }, encoding, { n: 1 }).packed.ob;
    const r = abandonLargeObject(ob, 412);
    expect(r.failed).toMatchObject({ tag: 'big', status: 412, paths: ['./Big'] });
    expect(hasPending(r.ob)).toBe(false);
  });

  it('sends large Results in the replies as a Large Object too', () => {
    const text = 'é'.repeat(30_000); // 60,000 UTF-8 bytes, must not be cut inside a character
    const results: Results = {
      kind: 'Results',
      cmdId: 0,
      msgRef: 1,
      cmdRef: 4,
      items: [{ source: { locURI: './Text' }, meta: { format: 'chr' }, data: text }],
    };
    let ob = enqueueReplies(newOutbox(), [results]);
    const parts: string[] = [];
    for (let m = 1; m < 50; m++) {
      const { packed, decoded } = pack(ob, m, { maxMsgSize: 8192 }, encoding, { n: 1 }, [status(m, 1, 200)]);
      ob = packed.ob;
      // Statuses go first, even ahead of Results queued earlier.
      expect(decoded.body.commands[0]!.kind).toBe('Status');
      const r = decoded.body.commands.find((c) => c.kind === 'Results') as Results | undefined;
      if (!r) break;
      parts.push(r.items[0]!.data as string);
      if (m === 1) expect(r.items[0]!.meta?.size).toBe(utf8Encode(text).length);
      if (!r.items[0]!.moreData) break;
      const rec = packed.sent.find((s) => s.chunk === 'more')!;
      expect(rec.kind).toBe('Results');
      ob = noteStatus(ob, m, rec.cmdId, 213).ob;
    }
    expect(parts.length).toBeGreaterThan(5);
    expect(parts.join('')).toBe(text);
  });

  it('carries two big Results one after the other, never holding back the statuses (no deadlock)', () => {
    const a = randomBytes(40_000);
    const b = randomBytes(30_000);
    const res = (cmdRef: number, path: string, data: Uint8Array): Results => ({
      kind: 'Results',
      cmdId: 0,
      msgRef: 1,
      cmdRef,
      items: [{ source: { locURI: path }, meta: { format: 'bin' }, data }],
    });
    let ob = enqueueReplies(newOutbox(), [res(4, './A', a), res(5, './B', b)]);
    const got = new Map<string, Array<Uint8Array | string>>();
    let m = 1;
    for (; m < 200 && hasPending(ob); m++) {
      const { packed, decoded } = pack(ob, m, { maxMsgSize: 8192 }, encoding, { n: 1 }, [status(m, 0, 200)]);
      ob = packed.ob;
      expect(decoded.body.commands[0]!.kind, `message ${m}`).toBe('Status');
      for (const c of decoded.body.commands) {
        if (c.kind !== 'Results') continue;
        const it = c.items[0]!;
        const path = it.source!.locURI;
        got.set(path, [...(got.get(path) ?? []), it.data as Uint8Array | string]);
      }
      const rec = packed.sent.find((s) => s.chunk === 'more');
      if (rec) ob = noteStatus(ob, m, rec.cmdId, 213).ob;
    }
    expect(hasPending(ob)).toBe(false);
    // XML carries the chunks as base64 text, WBXML as opaque bytes.
    const whole = (parts: Array<Uint8Array | string>) =>
      typeof parts[0] === 'string' ? base64Decode(parts.join('')) : concatBytes(parts as Uint8Array[]);
    expect(bytesEqual(whole(got.get('./A')!), a)).toBe(true);
    expect(bytesEqual(whole(got.get('./B')!), b)).toBe(true);
  });

  it('continues the object in flight in every message, however many small Results wait behind it', () => {
    const big = randomBytes(30_000);
    const res = (cmdRef: number, path: string, data: Uint8Array): Results => ({
      kind: 'Results',
      cmdId: 0,
      msgRef: 1,
      cmdRef,
      items: [{ source: { locURI: path }, meta: { format: 'bin' }, data }],
    });
    let ob = enqueueReplies(newOutbox(), [res(4, './Big', big)]);
    let inFlight = false;
    for (let m = 1; m < 100 && hasPending(ob); m++) {
      // Each round the peer's Gets add small Results that alone would fill a message.
      ob = enqueueReplies(
        ob,
        Array.from({ length: 12 }, (_, i) => res(100 + m * 20 + i, `./Small/${m}/${i}`, randomBytes(600))),
      );
      const { packed, decoded } = pack(ob, m, { maxMsgSize: 8192 }, encoding, { n: 1 }, [status(m, 0, 200)]);
      ob = packed.ob;
      const chunk = decoded.body.commands.find((c) => c.kind === 'Results' && c.items[0]!.source!.locURI === './Big');
      if (inFlight) expect(chunk, `message ${m} must continue the object`).toBeDefined();
      const rec = packed.sent.find((x) => x.chunk === 'more');
      inFlight = rec !== undefined;
      if (rec) ob = noteStatus(ob, m, rec.cmdId, 213).ob;
      if (!inFlight && chunk) break;
    }
    expect(inFlight).toBe(false);
  });
});
