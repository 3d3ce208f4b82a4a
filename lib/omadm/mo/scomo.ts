/**
 * SCOMO, Software Component Management Object (OMA-TS-DM-SCOMO-V1_0). Backups record the
 * deployed applications from the inventory; restores reinstall them through Download
 * packages and Exec DownloadInstall.
 *
 *   ./SCOMO/Inventory/Deployed/<x>/ID, Name, Version, State (10 inactive, 20 active),
 *                                  Operations/Activate, Deactivate, Remove
 *   ./SCOMO/Download/<x>/PkgID, Name, PkgURL, Status,
 *                        Operations/Download, DownloadInstall, DownloadInstallInactive
 *
 * Completion is reported by Generic Alert `...softwarecomponent.OperationComplete`.
 */
import type { Exec, Item } from '../message';
import { itemPath, itemText, leafItem, nodeItem, nodeName, parseUInt } from './common';
import { alertText, type GenericAlertItem } from './generic-alert';

export const SCOMO_ROOT = './SCOMO';
export const SCOMO_DEPLOYED = './SCOMO/Inventory/Deployed';
export const SCOMO_DOWNLOAD = './SCOMO/Download';
export const SCOMO_ALERT_OPERATION_COMPLETE = 'org.openmobilealliance.dm.softwarecomponent.OperationComplete';

export const ScomoState = { Inactive: 10, Active: 20 } as const;

export type DeployedOperation = 'Activate' | 'Deactivate' | 'Remove';
export type DownloadOperation = 'Download' | 'DownloadInstall' | 'DownloadInstallInactive';

export function deployedPaths(x: string) {
  const b = `${SCOMO_DEPLOYED}/${nodeName(x)}`;
  return {
    base: b,
    ID: `${b}/ID`,
    Name: `${b}/Name`,
    Version: `${b}/Version`,
    State: `${b}/State`,
    op: (o: DeployedOperation) => `${b}/Operations/${o}`,
  };
}

export function downloadPaths(x: string) {
  const b = `${SCOMO_DOWNLOAD}/${nodeName(x)}`;
  return {
    base: b,
    PkgID: `${b}/PkgID`,
    Name: `${b}/Name`,
    PkgURL: `${b}/PkgURL`,
    Status: `${b}/Status`,
    op: (o: DownloadOperation) => `${b}/Operations/${o}`,
  };
}

export interface DeployedComponent {
  /** Node name under Deployed. */
  node: string;
  id: string;
  name?: string;
  version?: string;
  active?: boolean;
}

/**
 * Reads the inventory from Results items (a StructData Get or a walk). Components
 * without an ID are skipped; at most 4096 are read.
 */
export function parseInventory(items: readonly Item[]): DeployedComponent[] {
  const byNode = new Map<string, Partial<DeployedComponent>>();
  const prefix = `${SCOMO_DEPLOYED}/`;
  for (const item of items) {
    const path = itemPath(item);
    const v = itemText(item);
    if (!path?.startsWith(prefix) || v === undefined) continue;
    const [node, leaf, ...more] = path.slice(prefix.length).split('/');
    if (!node || !leaf || more.length > 0) continue;
    let c = byNode.get(node);
    if (!c) {
      if (byNode.size >= 4096) continue;
      c = { node };
      byNode.set(node, c);
    }
    if (leaf === 'ID') c.id = v;
    else if (leaf === 'Name') c.name = v;
    else if (leaf === 'Version') c.version = v;
    else if (leaf === 'State') {
      const s = parseUInt(v);
      if (s === ScomoState.Active) c.active = true;
      else if (s === ScomoState.Inactive) c.active = false;
    }
  }
  return [...byNode.values()].filter((c): c is DeployedComponent => typeof c.id === 'string' && c.id !== '');
}

export interface DownloadPackage {
  pkgId: string;
  name?: string;
  url: string;
}

/** Add items creating ./SCOMO/Download/<x> for a package, interior node first. */
export function downloadAddItems(x: string, pkg: DownloadPackage): Item[] {
  const p = downloadPaths(x);
  const items = [nodeItem(p.base), leafItem(p.PkgID, pkg.pkgId)];
  if (pkg.name !== undefined) items.push(leafItem(p.Name, pkg.name));
  items.push(leafItem(p.PkgURL, pkg.url));
  return items;
}

/** Exec on a Download or Deployed operation node; the Correlator comes back in the alert. */
export function scomoExec(cmdId: number, opPath: string, correlator: string): Exec {
  return { kind: 'Exec', cmdId, correlator, items: [{ target: { locURI: opPath } }] };
}

/** SCOMO 1.0 result codes (its Result Code table); codes outside it are reported as unknown. */
export const SCOMO_RESULT: Readonly<Record<number, string>> = {
  1200: 'Successful',
  1400: 'Client Error',
  1401: 'User Cancelled',
  1402: 'Download Failed',
  1403: 'Alternate Download Authentication Failure',
  1404: 'Download Failed due to Device Out of Memory',
  1405: 'Install Failed',
  1406: 'Install Failed due to Device Out of Memory',
  1407: 'Failed Package Validation',
  1408: 'Remove Failed',
  1409: 'Activate Failed',
  1410: 'Deactivate Failed',
  1411: 'Not Implemented',
  1412: 'Undefined Error',
  1413: 'Operation Rejected - Unsupported Environment',
  1500: 'Alternate Download Server Error',
  1501: 'Alternate Download Server Unavailable',
};

export function isScomoSuccess(code: number): boolean {
  return code === 1200 || (code >= 1250 && code <= 1299);
}

export interface ScomoResult {
  /** The operation node that was executed (Source), normalized. */
  source?: string;
  resultCode: number;
  success: boolean;
  description: string;
  /** ID of the component concerned, when the client reports it (DownloadInstall creates one). */
  identifier?: string;
}

/**
 * Reads an OperationComplete Generic Alert item. Its Data is either the bare result code
 * or the SCOMO 1.0 XML form `<ResultCode>1200</ResultCode><Identifier>id</Identifier>`
 * (as text, or already decoded as XML elements).
 */
export function parseScomoResult(g: GenericAlertItem): ScomoResult | null {
  if (g.type.toLowerCase() !== SCOMO_ALERT_OPERATION_COMPLETE.toLowerCase()) return null;
  let codeText: string | undefined;
  let identifier: string | undefined;
  if (Array.isArray(g.data)) {
    for (const el of g.data) {
      const text = el.children
        .filter((c): c is string => typeof c === 'string')
        .join('')
        .trim();
      if (el.name === 'ResultCode') codeText = text;
      else if (el.name === 'Identifier') identifier = text;
    }
  } else {
    const t = alertText(g) ?? '';
    const rc = /<ResultCode>\s*(\d+)\s*<\/ResultCode>/.exec(t);
    codeText = rc ? rc[1] : t;
    const id = /<Identifier>([^<]{0,1024})<\/Identifier>/.exec(t);
    if (id) identifier = id[1]!.trim();
  }
  const code = parseUInt(codeText) ?? 1412;
  const out: ScomoResult = {
    resultCode: code,
    success: isScomoSuccess(code),
    description:
      SCOMO_RESULT[code] ?? (code >= 1250 && code <= 1299 ? 'Successful - Vendor Specified' : 'Unknown Result Code'),
  };
  if (g.source !== undefined) out.source = g.source;
  if (identifier) out.identifier = identifier;
  return out;
}
