/**
 * Generic Alert (1226, OMA-TS-DM_Protocol-V1_2_1 §8.7): how a handset reports the outcome
 * of an asynchronous operation (FUMO, SCOMO, Rewind's B&R) or an event of its own. Each
 * Item carries Source (the node that raised it), Meta Type (a reversed-domain alert type,
 * required), Meta Format (required), optional Meta Mark (fatal|critical|minor|warning|
 * informational|harmless|indeterminate) and Data. The Alert's Correlator echoes the
 * Exec that started the operation.
 */
import { AlertCode, type Alert, type Format, type Item, type ItemData } from '../message';
import { dataText, normalizePath } from './common';

export const GENERIC_ALERT = AlertCode.Generic;

export type AlertMark = 'fatal' | 'critical' | 'minor' | 'warning' | 'informational' | 'harmless' | 'indeterminate';
const MARKS: readonly string[] = [
  'fatal',
  'critical',
  'minor',
  'warning',
  'informational',
  'harmless',
  'indeterminate',
];

export interface GenericAlertItem {
  /** Normalized Source LocURI, when the alert comes from a node. */
  source?: string;
  /** Target LocURI, rarely used (alerts addressed to a server-side object). */
  target?: string;
  type: string;
  format: Format | string;
  mark?: AlertMark;
  data?: ItemData;
}

export interface GenericAlert {
  correlator?: string;
  items: GenericAlertItem[];
}

/**
 * Alert types are reversed domain names. The spec's own example writes a placeholder
 * "Reversed-Domain-Name: org.domain.samplealert"; strip that label so copies of it parse.
 */
function cleanType(t: string): string {
  const s = t.trim();
  const m = /^reversed-domain-name:\s*(.*)$/i.exec(s);
  return (m ? m[1]! : s).trim();
}

/** One Generic Alert Item, or null when it lacks the required Meta Type. Format defaults to chr. */
export function parseGenericAlertItem(item: Item): GenericAlertItem | null {
  const type = item.meta?.type;
  if (typeof type !== 'string' || cleanType(type) === '' || type.length > 256) return null;
  const out: GenericAlertItem = { type: cleanType(type), format: item.meta?.format?.trim() || 'chr' };
  const source = normalizePath(item.source?.locURI);
  if (source !== undefined) out.source = source;
  if (item.target?.locURI !== undefined) out.target = item.target.locURI.trim();
  const mark = item.meta?.mark?.trim().toLowerCase();
  if (mark !== undefined && MARKS.includes(mark)) out.mark = mark as AlertMark;
  if (item.data !== undefined) out.data = item.data;
  return out;
}

/** The Generic Alert in an Alert command, or null if it is another alert. Items without Type are dropped. */
export function parseGenericAlert(alert: Alert): GenericAlert | null {
  if (alert.data.trim() !== GENERIC_ALERT) return null;
  const items: GenericAlertItem[] = [];
  for (const item of alert.items) {
    const g = parseGenericAlertItem(item);
    if (g) items.push(g);
  }
  const out: GenericAlert = { items };
  if (alert.correlator !== undefined) out.correlator = alert.correlator.trim();
  return out;
}

export function buildGenericAlertItem(g: GenericAlertItem): Item {
  const item: Item = {};
  if (g.source !== undefined) item.source = { locURI: g.source };
  if (g.target !== undefined) item.target = { locURI: g.target };
  item.meta = { type: g.type, format: g.format, ...(g.mark !== undefined ? { mark: g.mark } : {}) };
  if (g.data !== undefined) item.data = g.data;
  return item;
}

/** A whole Generic Alert command. */
export function buildGenericAlert(cmdId: number, items: readonly GenericAlertItem[], correlator?: string): Alert {
  const alert: Alert = { kind: 'Alert', cmdId, data: GENERIC_ALERT, items: items.map(buildGenericAlertItem) };
  if (correlator !== undefined) alert.correlator = correlator;
  return alert;
}

/** Text of a Generic Alert's data (strings and UTF-8 bytes), trimmed. */
export function alertText(g: GenericAlertItem): string | undefined {
  return dataText(g.data)?.trim();
}
