/**
 * Small helpers the management-object modules share: node paths, leaf items, and
 * reading values out of items a handset sent (which may be text, bytes or XML).
 */
import type { Format, Item, ItemData } from '../message';
import { utf8Decode } from '../util/bytes';

/** Longest URI we accept from a peer; DevDetail/URI/MaxTotLen is rarely above 255. */
export const MAX_PATH_CHARS = 1024;
/** Longest leaf value the typed parsers read as text. */
export const MAX_VALUE_CHARS = 64 * 1024;

/**
 * Canonical form of a node URI for comparisons: "./A/B". Clients write "A/B", "./A/B/",
 * or add "?list=Struct"; all mean the same node. Returns undefined for something that is
 * not a usable path.
 */
export function normalizePath(p: string | undefined): string | undefined {
  if (typeof p !== 'string' || p.length > MAX_PATH_CHARS) return undefined;
  let s = p.trim();
  const q = s.indexOf('?');
  if (q >= 0) s = s.slice(0, q);
  while (s.length > 1 && s.endsWith('/')) s = s.slice(0, -1);
  if (s === '.' || s === './' || s === '') return '.';
  if (s.startsWith('./')) return s;
  if (s.startsWith('/')) return undefined;
  return `./${s}`;
}

/** A node name we can put in a path: no '/', '?', not '.' or '..', not empty, ≤ 64 chars. */
export function isNodeName(name: string): boolean {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    name.length <= 64 &&
    !/[/?]/.test(name) &&
    name !== '.' &&
    name !== '..'
  );
}

/** Throws RangeError for a node name a builder must not use (a caller bug, not a protocol event). */
export function nodeName(name: string): string {
  if (!isNodeName(name)) throw new RangeError(`invalid node name: ${JSON.stringify(name)}`);
  return name;
}

/** Path of an item: Source for what a handset reports, Target for what a server addresses. */
export function itemPath(item: Item): string | undefined {
  return normalizePath(item.source?.locURI ?? item.target?.locURI);
}

/** Text of an item's data: strings as they are, bytes as UTF-8; XML and oversize data give undefined. */
export function dataText(data: ItemData | undefined): string | undefined {
  if (typeof data === 'string') return data.length > MAX_VALUE_CHARS ? undefined : data;
  if (data instanceof Uint8Array) {
    if (data.length > MAX_VALUE_CHARS) return undefined;
    try {
      return utf8Decode(data);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Trimmed text of an item's data. XML parsers keep the whitespace around values. */
export function itemText(item: Item): string | undefined {
  return dataText(item.data)?.trim();
}

export function parseBool(s: string | undefined): boolean | undefined {
  if (s === undefined) return undefined;
  const v = s.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return undefined;
}

/** A non-negative decimal integer that is safe in JS, or undefined. */
export function parseUInt(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const v = s.trim();
  if (!/^\d{1,15}$/.test(v)) return undefined;
  return Number(v);
}

export interface LeafOptions {
  format?: Format;
  type?: string;
  /** 'target' (default) for what a server sends; 'source' for what a handset reports. */
  side?: 'target' | 'source';
}

/** An Item for one leaf (or, with format 'node' and no value, an interior node). */
export function leafItem(path: string, value: string | undefined, opts: LeafOptions = {}): Item {
  const item: Item = opts.side === 'source' ? { source: { locURI: path } } : { target: { locURI: path } };
  const format = opts.format ?? 'chr';
  item.meta = opts.type !== undefined ? { format, type: opts.type } : { format };
  if (value !== undefined) item.data = value;
  return item;
}

/** Item for an interior node, for Add before its children. */
export function nodeItem(path: string): Item {
  return leafItem(path, undefined, { format: 'node' });
}

/** Values of items keyed by their normalized path; later items win. */
export function valuesByPath(items: readonly Item[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items) {
    const p = itemPath(item);
    const v = itemText(item);
    if (p !== undefined && v !== undefined) out.set(p, v);
  }
  return out;
}
