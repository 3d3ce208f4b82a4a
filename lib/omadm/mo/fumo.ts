/**
 * FUMO, Firmware Update Management Object (OMA-TS-DM_FUMO-V1_0). Rewind records the
 * firmware version in each backup and can put a handset back on a known firmware, so it
 * drives FUMO: Replace the PkgURL, Exec Download / Update / DownloadAndUpdate with a
 * Correlator, answer 202, and wait for the Generic Alert carrying the result code.
 *
 * The FUMO node sits wherever the handset puts it (e.g. ./FwUpdate/<x>, found by its MO
 * id urn:oma:mo:oma-fumo:1.0); every path here is relative to that root.
 */
import type { Exec, Item } from '../message';
import { leafItem, normalizePath, parseUInt } from './common';
import { alertText, type GenericAlertItem } from './generic-alert';

export const FUMO_MO_ID = 'urn:oma:mo:oma-fumo:1.0';

export function fumoPaths(root: string) {
  const r = normalizePath(root);
  if (r === undefined || r === '.') throw new RangeError(`invalid FUMO root: ${JSON.stringify(root)}`);
  return {
    root: r,
    PkgName: `${r}/PkgName`,
    PkgVersion: `${r}/PkgVersion`,
    Download: `${r}/Download`,
    DownloadPkgURL: `${r}/Download/PkgURL`,
    Update: `${r}/Update`,
    UpdatePkgData: `${r}/Update/PkgData`,
    DownloadAndUpdate: `${r}/DownloadAndUpdate`,
    DownloadAndUpdatePkgURL: `${r}/DownloadAndUpdate/PkgURL`,
    State: `${r}/State`,
    Ext: `${r}/Ext`,
  };
}

/** ./<root>/State values. */
export const FumoState = {
  Idle: 10, // also "Start"
  DownloadFailed: 20,
  DownloadProgressing: 30,
  DownloadComplete: 40,
  ReadyToUpdate: 50,
  UpdateProgressing: 60,
  UpdateFailedHaveData: 70,
  UpdateFailedNoData: 80,
  UpdateSuccessfulHaveData: 90,
  UpdateSuccessfulNoData: 100,
} as const;
export type FumoStateValue = (typeof FumoState)[keyof typeof FumoState];

export function parseFumoState(s: string | undefined): FumoStateValue | undefined {
  const n = parseUInt(s);
  return (Object.values(FumoState) as number[]).includes(n ?? -1) ? (n as FumoStateValue) : undefined;
}

export type FumoOperation = 'download' | 'update' | 'downloadandupdate';

export const FUMO_ALERT = {
  download: 'org.openmobilealliance.dm.firmwareupdate.download',
  update: 'org.openmobilealliance.dm.firmwareupdate.update',
  downloadandupdate: 'org.openmobilealliance.dm.firmwareupdate.downloadandupdate',
} as const satisfies Record<FumoOperation, string>;

/** FUMO result codes (the Data of the Generic Alert). */
export const FUMO_RESULT: Readonly<Record<number, string>> = {
  200: 'Successful',
  400: 'Management Client Error',
  401: 'User Cancelled',
  402: 'Corrupted Firmware Update Package',
  403: 'Firmware Update Package - Device Mismatch',
  404: 'Failed Firmware Update Package Validation',
  405: 'Firmware Update Package Not Acceptable',
  406: 'Alternate Download Authentication Failure',
  407: 'Alternate Download Request Time-Out',
  408: 'Not Implemented',
  409: 'Undefined Error',
  410: 'Firmware Update Failed',
  411: 'Malformed or Bad URL',
  412: 'Alternate Download Server Unavailable',
  500: 'Alternate Download Server Error',
  501: 'Download Fails due to Device is Out of Memory',
  502: 'Firmware Update Fails due to Device Out of Memory',
  503: 'Download Fails due to Network Issues',
};

/** Meaning of a result code, including the vendor-specified ranges. */
export function fumoResultText(code: number): string {
  const known = FUMO_RESULT[code];
  if (known) return known;
  if (code >= 250 && code <= 299) return 'Successful - Vendor Specified';
  if (code >= 450 && code <= 499) return 'Client Error - Vendor Specified';
  if (code >= 550 && code <= 599) return 'Alternate Download Server Error - Vendor Specified';
  return 'Unknown Result Code';
}

/** 200 and the vendor-specified successes 250..299. */
export function isFumoSuccess(code: number): boolean {
  return code === 200 || (code >= 250 && code <= 299);
}

const OP_NODE: Record<FumoOperation, 'Download' | 'Update' | 'DownloadAndUpdate'> = {
  download: 'Download',
  update: 'Update',
  downloadandupdate: 'DownloadAndUpdate',
};

/** Replace item setting the package URL before a Download / DownloadAndUpdate Exec. */
export function fumoPkgUrlItem(root: string, op: 'download' | 'downloadandupdate', url: string): Item {
  const p = fumoPaths(root);
  return leafItem(op === 'download' ? p.DownloadPkgURL : p.DownloadAndUpdatePkgURL, url);
}

/**
 * The Exec that starts an operation. The Correlator comes back in the Generic Alert, so
 * give each Exec its own (Rewind uses the job id).
 */
export function fumoExec(cmdId: number, root: string, op: FumoOperation, correlator: string): Exec {
  const p = fumoPaths(root);
  return { kind: 'Exec', cmdId, correlator, items: [{ target: { locURI: `${p.root}/${OP_NODE[op]}` } }] };
}

export interface FumoResult {
  operation: FumoOperation;
  /** The FUMO node (root) the alert came from, or undefined when the client left Source out. */
  root?: string;
  resultCode: number;
  success: boolean;
  description: string;
}

/**
 * Reads a FUMO Generic Alert item. Returns null for items that are not FUMO alerts; a
 * FUMO alert whose Data is not a number is reported as 409 Undefined Error rather than
 * dropped, so the job waiting on it still ends.
 */
export function parseFumoResult(g: GenericAlertItem): FumoResult | null {
  const type = g.type.toLowerCase();
  const operation = (Object.keys(FUMO_ALERT) as FumoOperation[]).find((k) => FUMO_ALERT[k] === type);
  if (!operation) return null;
  const code = parseUInt(alertText(g)) ?? 409;
  const out: FumoResult = {
    operation,
    resultCode: code,
    success: isFumoSuccess(code),
    description: fumoResultText(code),
  };
  if (g.source !== undefined) {
    // Source names the node executed (x/Download) or the FUMO root; report the root.
    out.root = g.source.replace(/\/(Download|Update|DownloadAndUpdate)$/, '');
  }
  return out;
}
