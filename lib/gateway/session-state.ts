/**
 * Storing the engine's session state between messages. The state is JSON, but some of
 * it is large and long-lived: a Large Object going out (kept whole while its chunks go)
 * or coming in (one string per chunk), values queued to write. Rewriting megabytes with
 * every message made a 10 MB transfer quadratic, so strings above a threshold are kept
 * apart, by SHA-256, in dm_session_values: written once, referred to from the state row.
 * A small in-process cache keeps the ones in use, so a message rarely reads them back.
 */
import { createHash } from 'node:crypto';
import type { Db } from '@/db/client';
import { getSessionValue, syncSessionValues } from '@/db/queries/sessions';

const THRESHOLD = 16 * 1024;
const REF = '$sv';
const CACHE_BYTES = 64 * 1024 * 1024;

/** hash -> value, least recently used first; and value -> hash for values seen. */
const byHash = new Map<string, string>();
const hashOf = new Map<string, string>();
let cached = 0;

function remember(hash: string, value: string): void {
  if (byHash.has(hash)) {
    byHash.delete(hash);
    byHash.set(hash, value);
    return;
  }
  byHash.set(hash, value);
  hashOf.set(value, hash);
  cached += value.length;
  for (const [h, v] of byHash) {
    if (cached <= CACHE_BYTES) break;
    byHash.delete(h);
    hashOf.delete(v);
    cached -= v.length;
  }
}

function hash(value: string): string {
  // Looking a string up by itself is cheap once V8 has hashed that string instance.
  const known = hashOf.get(value);
  if (known) return known;
  const h = createHash('sha256').update(value).digest('hex');
  remember(h, value);
  return h;
}

export interface EncodedState {
  json: string;
  /** Large values the JSON refers to. */
  values: Map<string, string>;
}

/** Whether any string in `v` is large enough to be kept apart (walked without building arrays of values). */
function hasLarge(v: unknown): boolean {
  if (typeof v === 'string') return v.length > THRESHOLD;
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) {
    for (const x of v) if (hasLarge(x)) return true;
    return false;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) if (hasLarge(o[k])) return true;
  return false;
}

export function encodeState(state: unknown): EncodedState {
  const values = new Map<string, string>();
  // Most states hold no large value: JSON.stringify without a replacer is several times
  // faster, and gives the same text when the replacer would change nothing.
  if (!hasLarge(state)) return { json: JSON.stringify(state), values };
  const json = JSON.stringify(state, (_key, v: unknown) => {
    if (typeof v === 'string' && v.length > THRESHOLD) {
      const h = hash(v);
      values.set(h, v);
      return { [REF]: h };
    }
    return v;
  });
  return { json, values };
}

export async function decodeState<T>(
  db: Db,
  sessionRowId: string,
  json: string,
  extra?: ReadonlyMap<string, string>,
): Promise<T> {
  // No reference in the text (a key "$sv" always appears as `"$sv"`): no reviver needed.
  if (!json.includes(`"${REF}"`)) return JSON.parse(json) as T;
  // The reviver cannot wait for the database: it notes where each reference is, and the
  // values are put in place once read (from the cache when they are there).
  const refs: Array<{ holder: Record<string, unknown>; key: string; ref: string }> = [];
  let root: unknown = JSON.parse(json, function (this: Record<string, unknown>, key: string, v: unknown) {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const ref = (v as Record<string, unknown>)[REF];
      if (typeof ref === 'string' && Object.keys(v).length === 1) refs.push({ holder: this, key, ref });
    }
    return v;
  });
  for (const { holder, key, ref } of refs) {
    const value = extra?.get(ref) ?? byHash.get(ref) ?? (await getSessionValue(db, sessionRowId, ref));
    if (value === undefined) throw new Error(`session ${sessionRowId}: a stored value of its state is missing`);
    remember(ref, value);
    if (key === '' && holder[''] === root) root = value;
    else holder[key] = value;
  }
  return root as T;
}

/**
 * Writes the large values (new ones only) and drops those the state left behind. The values
 * stored are those the stored state refers to (both are written in one transaction), so
 * when the state before (`previousJson`, if given) referred to none and the new one holds
 * none, there is nothing to read or write: most messages, which saves a query on each.
 */
export async function storeValues(
  db: Db,
  sessionRowId: string,
  encoded: EncodedState,
  previousJson?: string,
): Promise<void> {
  if (previousJson !== undefined && encoded.values.size === 0 && !previousJson.includes(`"${REF}"`)) return;
  await syncSessionValues(db, sessionRowId, encoded.values);
}
