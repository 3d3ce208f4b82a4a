/**
 * DevInfo (OMA-TS-DM_StdObj-V1_2 §5.3): the identity a handset sends as Replace items in
 * the package that opens every session (Package #1).
 */
import type { Item } from '../message';
import { leafItem, valuesByPath } from './common';

export const DEVINFO_ROOT = './DevInfo';
export const DEVINFO = {
  DevId: './DevInfo/DevId',
  Man: './DevInfo/Man',
  Mod: './DevInfo/Mod',
  DmV: './DevInfo/DmV',
  Lang: './DevInfo/Lang',
  Ext: './DevInfo/Ext',
  Bearer: './DevInfo/Bearer',
} as const;

export interface DevInfo {
  devId: string;
  man: string;
  mod: string;
  dmV: string;
  lang: string;
}

const FIELDS = [
  ['devId', DEVINFO.DevId],
  ['man', DEVINFO.Man],
  ['mod', DEVINFO.Mod],
  ['dmV', DEVINFO.DmV],
  ['lang', DEVINFO.Lang],
] as const;

/** The Replace items (Source, Format chr, Type text/plain) a client puts in Package #1. */
export function devInfoItems(d: DevInfo): Item[] {
  return FIELDS.map(([k, path]) => leafItem(path, d[k], { side: 'source', format: 'chr', type: 'text/plain' }));
}

/**
 * Reads DevInfo from the items of a Replace (or Results). Missing leaves stay missing:
 * the caller decides whether a session without DevId is acceptable (it should not be).
 */
export function parseDevInfo(items: readonly Item[]): Partial<DevInfo> {
  const values = valuesByPath(items);
  const out: Partial<DevInfo> = {};
  for (const [k, path] of FIELDS) {
    const v = values.get(path);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function isCompleteDevInfo(d: Partial<DevInfo>): d is DevInfo {
  return FIELDS.every(([k]) => typeof d[k] === 'string' && d[k] !== '');
}
