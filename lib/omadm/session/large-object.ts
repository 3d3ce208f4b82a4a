/**
 * Reassembly of incoming Large Objects (OMA-TS-DM_Protocol-V1_2 §6.9, SyncML RepPro §6.x):
 * an Item too big for one message arrives as the same command repeated over consecutive
 * messages, one Item each, with <MoreData/> on every chunk but the last and Meta Size (the
 * total bytes of Data as transmitted) on the first.
 *
 * The receiver answers each non-last chunk with 213 (chunk accepted), the last one with
 * the command's real status once the object is complete. Errors:
 *  - Size above our MaxObjSize: 413 at once, nothing stored.
 *  - Received bytes that exceed the announced Size, or a total that differs from it at
 *    the last chunk: 424 (size mismatch), object dropped.
 *  - A new object (different command kind or URI) while one is unfinished, or a message
 *    that carries no chunk of an unfinished object: the old one is dropped and the peer
 *    gets Alert 1225 (end of data for chunked object not received) naming it.
 *
 * Keyed by (command kind, Target LocURI, else Source LocURI). State is plain JSON: chunks
 * are kept as text (decoded XML PCDATA) or base64 of raw bytes (WBXML opaque).
 */
import { AlertCode, StatusCode, type Alert, type CommandKind, type Item, type ItemData } from '../message';
import { base64Decode, base64Encode, concatBytes, utf8Encode } from '../util/bytes';

type StoredChunk = { t: string } | { b: string };

export interface IncomingLargeObject {
  key: string;
  kind: CommandKind;
  uri: string;
  /** The first chunk's Item without its Data (Target/Source/Meta), reused for the whole. */
  first: { target?: Item['target']; source?: Item['source']; meta?: Item['meta'] };
  /** Meta Size of the first chunk; undefined when the peer left it out (we tolerate it). */
  size?: number;
  received: number;
  chunks: StoredChunk[];
  /** Incremented per message; reset when a chunk arrives. */
  idleMessages: number;
}

export interface LargeObjectState {
  current?: IncomingLargeObject;
}

export type ChunkOutcome =
  /** Not part of a Large Object: process the Item as usual. */
  | { kind: 'single' }
  /** Non-last chunk stored: answer 213. */
  | { kind: 'chunk'; status: 213 }
  /** Last chunk: the whole Item, Data concatenated, MoreData and Meta Size removed. */
  | { kind: 'complete'; item: Item }
  /** Refused: answer with this status; nothing of the object is kept. */
  | { kind: 'error'; status: number; reason: 'too-large' | 'size-mismatch' };

export interface ChunkResult {
  lo: LargeObjectState;
  outcome: ChunkOutcome;
  /** An unfinished object dropped because this Item started another: answer Alert 1225. */
  abandoned?: IncomingLargeObject;
}

export function newLargeObjectState(): LargeObjectState {
  return {};
}

export function largeObjectKey(kind: CommandKind, item: Item): string | undefined {
  const uri = item.target?.locURI ?? item.source?.locURI;
  return uri === undefined ? undefined : `${kind}|${uri}`;
}

/**
 * Feeds one Item of a received command. `maxObjSize` is our MaxObjSize (the bound on
 * what we buffer). Items without MoreData that do not continue an object are 'single'.
 */
/** A closure in receiveChunk would be created (and named, at a cost) for every Item received. */
function withAbandoned(abandoned: IncomingLargeObject | undefined, r: Omit<ChunkResult, 'abandoned'>): ChunkResult {
  return abandoned ? { ...r, abandoned } : r;
}

export function receiveChunk(lo: LargeObjectState, kind: CommandKind, item: Item, maxObjSize: number): ChunkResult {
  const key = largeObjectKey(kind, item) ?? `${kind}|`;
  const cur = lo.current;
  const data = item.data;
  const continues = cur !== undefined && cur.key === key;
  let abandoned: IncomingLargeObject | undefined;
  let base: LargeObjectState = lo;
  if (cur && !continues) {
    abandoned = cur;
    base = {};
  }

  if (!continues && !item.moreData) return withAbandoned(abandoned, { lo: base, outcome: { kind: 'single' } });

  if (data !== undefined && typeof data !== 'string' && !(data instanceof Uint8Array)) {
    // Nested XML cannot be chunked; treat as a malformed object.
    return withAbandoned(abandoned, {
      lo: {},
      outcome: { kind: 'error', status: StatusCode.SizeMismatch, reason: 'size-mismatch' },
    });
  }
  const chunk = data ?? '';
  const n = typeof chunk === 'string' ? utf8Encode(chunk).length : chunk.length;
  const stored: StoredChunk = typeof chunk === 'string' ? { t: chunk } : { b: base64Encode(chunk) };

  let obj: IncomingLargeObject;
  if (continues) {
    obj = { ...cur, chunks: [...cur.chunks, stored], received: cur.received + n, idleMessages: 0 };
  } else {
    const size = item.meta?.size;
    if (size !== undefined && (!Number.isFinite(size) || size < 0 || size > maxObjSize)) {
      return withAbandoned(abandoned, {
        lo: {},
        outcome: { kind: 'error', status: StatusCode.RequestEntityTooLarge, reason: 'too-large' },
      });
    }
    const first: IncomingLargeObject['first'] = {};
    if (item.target) first.target = item.target;
    if (item.source) first.source = item.source;
    if (item.meta) first.meta = item.meta;
    obj = {
      key,
      kind,
      uri: item.target?.locURI ?? item.source?.locURI ?? '',
      first,
      received: n,
      chunks: [stored],
      idleMessages: 0,
      ...(size !== undefined ? { size } : {}),
    };
  }

  if (obj.received > maxObjSize) {
    return withAbandoned(abandoned, {
      lo: {},
      outcome: { kind: 'error', status: StatusCode.RequestEntityTooLarge, reason: 'too-large' },
    });
  }
  // Size counts the Data as transmitted, but some peers announce the decoded size of b64
  // data; such objects are checked at the last chunk only (maxObjSize still bounds them).
  const b64 = isB64(obj);
  if (obj.size !== undefined && obj.received > obj.size && !b64) {
    return withAbandoned(abandoned, {
      lo: {},
      outcome: { kind: 'error', status: StatusCode.SizeMismatch, reason: 'size-mismatch' },
    });
  }
  if (item.moreData) {
    return withAbandoned(abandoned, {
      lo: { current: obj },
      outcome: { kind: 'chunk', status: StatusCode.ChunkAccepted },
    });
  }
  // Last chunk.
  if (obj.size !== undefined && obj.received !== obj.size && !(b64 && decodedLength(obj) === obj.size)) {
    return withAbandoned(abandoned, {
      lo: {},
      outcome: { kind: 'error', status: StatusCode.SizeMismatch, reason: 'size-mismatch' },
    });
  }
  return withAbandoned(abandoned, { lo: {}, outcome: { kind: 'complete', item: assemble(obj) } });
}

function isB64(obj: IncomingLargeObject): boolean {
  return obj.first.meta?.format === 'b64' && obj.chunks.every((c) => 't' in c);
}

/** Bytes the base64 text of the object decodes to (whitespace ignored), -1 if it is not base64. */
function decodedLength(obj: IncomingLargeObject): number {
  let chars = 0;
  let pad = 0;
  for (const c of obj.chunks) {
    const t = (c as { t: string }).t;
    for (let i = 0; i < t.length; i++) {
      const ch = t.charCodeAt(i);
      if (ch === 32 || ch === 9 || ch === 10 || ch === 13) continue;
      if (ch === 61) pad++;
      chars++;
    }
  }
  if (chars % 4 !== 0) return -1;
  return (chars / 4) * 3 - Math.min(pad, 2);
}

function assemble(obj: IncomingLargeObject): Item {
  let data: ItemData;
  if (obj.chunks.every((c) => 't' in c)) {
    data = obj.chunks.map((c) => (c as { t: string }).t).join('');
  } else {
    data = concatBytes(obj.chunks.map((c) => ('t' in c ? utf8Encode(c.t) : base64Decode(c.b))));
  }
  const item: Item = { data };
  if (obj.first.target) item.target = obj.first.target;
  if (obj.first.source) item.source = obj.first.source;
  if (obj.first.meta) {
    const { size: _s, ...meta } = obj.first.meta;
    void _s;
    if (Object.keys(meta).length) item.meta = meta;
  }
  return item;
}

/**
 * Call once after all commands of a received message were fed. An unfinished object that
 * got no chunk in this message is dropped (the peer must send chunks in consecutive
 * messages) and returned so the caller answers Alert 1225.
 */
export function endMessage(lo: LargeObjectState): { lo: LargeObjectState; abandoned?: IncomingLargeObject } {
  const cur = lo.current;
  if (!cur) return { lo };
  if (cur.idleMessages >= 1) return { lo: {}, abandoned: cur };
  return { lo: { current: { ...cur, idleMessages: cur.idleMessages + 1 } } };
}

/** Drops any unfinished object (session abort). */
export function resetLargeObjects(): LargeObjectState {
  return {};
}

/** Alert 1225 naming an abandoned object (Source or Target as the object had it). cmdId 0: the outbox assigns it. */
export function noEndOfDataAlert(obj: IncomingLargeObject): Alert {
  const item: Item = {};
  if (obj.first.target) item.target = obj.first.target;
  if (obj.first.source) item.source = obj.first.source;
  return { kind: 'Alert', cmdId: 0, data: AlertCode.NoEndOfData, items: [item] };
}
