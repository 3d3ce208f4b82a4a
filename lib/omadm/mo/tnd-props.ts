/**
 * Node properties of the DM tree (OMA-TS-DM_TND-V1_2, "Properties of nodes"), read with a
 * Get of `<uri>?prop=<name>`. Two of them say whether a node changed without sending it:
 * `VerNo`, a version number that changes with every change of the node (of anything below
 * it, for an interior node), and `TStamp`, the time of its last modification. Both are
 * optional for a handset; one that lacks them answers 406 (or 404, 405) to the Get.
 *
 * Both sides use this module: the virtual handsets to answer, the server to ask and to read
 * the answer. An answer is a handset's text and is checked like any other input: a value
 * that is not of its property's form is a DecodeError, never a crash or a false "unchanged".
 */
import { DecodeError } from '../errors';

/** The TND's properties a handset may answer (ACL and the rest are read as well, never compared). */
export const NODE_PROPERTIES = ['ACL', 'Format', 'Name', 'Size', 'Title', 'TStamp', 'Type', 'VerNo'] as const;
export type NodeProperty = (typeof NODE_PROPERTIES)[number];

/** The two properties that tell a change. */
export type ChangeProperty = 'VerNo' | 'TStamp';

/** `<path>?prop=<name>`. */
export function propUri(path: string, prop: NodeProperty): string {
  return `${path}?prop=${prop}`;
}

/** The property a query asks for (`prop=VerNo`), or undefined when the query is not a property Get. */
export function propOfQuery(query: string): NodeProperty | undefined {
  const m = /^prop=([A-Za-z]{1,8})$/.exec(query.trim());
  return m ? NODE_PROPERTIES.find((p) => p === m[1]) : undefined;
}

/** The path and property of a `<path>?prop=<name>` URI, or undefined when it is not one. */
export function splitPropUri(uri: string): { path: string; prop: NodeProperty } | undefined {
  const q = uri.indexOf('?');
  if (q < 0) return undefined;
  const prop = propOfQuery(uri.slice(q + 1));
  return prop ? { path: uri.slice(0, q), prop } : undefined;
}

/** Longest VerNo kept: 15 digits stay exact in a number and in JSON. */
const VERNO = /^\d{1,15}$/;
/** ISO 8601, basic or extended, date and time with an optional fraction and zone. */
const TSTAMP = /^\d{4}-?\d{2}-?\d{2}T\d{2}:?\d{2}:?\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * A property value as the server keeps it to compare with the next backup's: VerNo as its
 * decimal digits without leading zeros, TStamp as the handset wrote it (trimmed). Anything
 * else is a DecodeError (a handset's malformed answer must not pass for "unchanged").
 */
export function parseChangeProperty(prop: ChangeProperty, text: string | undefined): string {
  const v = (text ?? '').trim();
  if (prop === 'VerNo') {
    if (!VERNO.test(v))
      throw new DecodeError('invalid', `VerNo must be a number, got ${JSON.stringify(v.slice(0, 24))}`);
    return String(Number(v));
  }
  if (v.length > 40 || !TSTAMP.test(v))
    throw new DecodeError('invalid', `TStamp must be an ISO 8601 time, got ${JSON.stringify(v.slice(0, 24))}`);
  return v;
}

/** A TStamp as a handset writes one: ISO 8601 in UTC with milliseconds (two changes in a second still differ). */
export function formatTStamp(ms: number): string {
  return new Date(ms).toISOString();
}
