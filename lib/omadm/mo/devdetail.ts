/**
 * DevDetail (OMA-TS-DM_StdObj-V1_2 §5.4): hardware, firmware and software versions and
 * the handset's DM limits. Backups record FwV/SwV/HwV so a restore can warn about a
 * version change; URI limits bound how deep and long our Gets may be.
 */
import type { Item } from '../message';
import { leafItem, parseBool, parseUInt, valuesByPath } from './common';

export const DEVDETAIL_ROOT = './DevDetail';
export const DEVDETAIL = {
  DevTyp: './DevDetail/DevTyp',
  OEM: './DevDetail/OEM',
  FwV: './DevDetail/FwV',
  SwV: './DevDetail/SwV',
  HwV: './DevDetail/HwV',
  LrgObj: './DevDetail/LrgObj',
  MaxDepth: './DevDetail/URI/MaxDepth',
  MaxTotLen: './DevDetail/URI/MaxTotLen',
  MaxSegLen: './DevDetail/URI/MaxSegLen',
  Ext: './DevDetail/Ext',
  Bearer: './DevDetail/Bearer',
} as const;

export interface DevDetail {
  devTyp?: string;
  oem?: string;
  fwV?: string;
  swV?: string;
  hwV?: string;
  /** Whether the handset supports Large Object delivery. */
  lrgObj?: boolean;
  /** 0 means no limit, per the spec. */
  maxDepth?: number;
  maxTotLen?: number;
  maxSegLen?: number;
}

const TEXT = [
  ['devTyp', DEVDETAIL.DevTyp],
  ['oem', DEVDETAIL.OEM],
  ['fwV', DEVDETAIL.FwV],
  ['swV', DEVDETAIL.SwV],
  ['hwV', DEVDETAIL.HwV],
] as const;
const INTS = [
  ['maxDepth', DEVDETAIL.MaxDepth],
  ['maxTotLen', DEVDETAIL.MaxTotLen],
  ['maxSegLen', DEVDETAIL.MaxSegLen],
] as const;

/** Items for a server Get of every DevDetail leaf we use (one Get, many Items). */
export function devDetailGetItems(): Item[] {
  return [...TEXT.map(([, p]) => p), DEVDETAIL.LrgObj, ...INTS.map(([, p]) => p)].map((p) => ({
    target: { locURI: p },
  }));
}

/** Reads DevDetail from Results items. Values that do not parse (a non-number MaxDepth) are left out. */
export function parseDevDetail(items: readonly Item[]): DevDetail {
  const values = valuesByPath(items);
  const out: DevDetail = {};
  for (const [k, p] of TEXT) {
    const v = values.get(p);
    if (v !== undefined) out[k] = v;
  }
  const lrg = parseBool(values.get(DEVDETAIL.LrgObj));
  if (lrg !== undefined) out.lrgObj = lrg;
  for (const [k, p] of INTS) {
    const v = parseUInt(values.get(p));
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Results items a handset answers with (used by the virtual handsets). */
export function devDetailItems(d: DevDetail): Item[] {
  const items: Item[] = [];
  for (const [k, p] of TEXT) if (d[k] !== undefined) items.push(leafItem(p, d[k], { side: 'source' }));
  if (d.lrgObj !== undefined)
    items.push(leafItem(DEVDETAIL.LrgObj, String(d.lrgObj), { side: 'source', format: 'bool' }));
  for (const [k, p] of INTS)
    if (d[k] !== undefined) items.push(leafItem(p, String(d[k]), { side: 'source', format: 'chr' }));
  return items;
}
