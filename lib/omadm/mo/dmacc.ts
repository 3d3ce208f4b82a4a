/**
 * DMAcc, the DM 1.2 account object (OMA-TS-DM_StdObj-V1_2 §5.5, AppID w7): where a
 * handset keeps the server's address and the credentials of both sides. Rewind reads it
 * to learn how a handset authenticates and writes it to provision or rotate credentials.
 *
 *   ./DMAcc/<x>/AppID = w7, ServerID, Name, PrefConRef
 *   ./DMAcc/<x>/AppAddr/<y>/Addr, AddrType (URI | IPv4 | IPv6), Port/<z>/PortNbr
 *   ./DMAcc/<x>/AppAuth/<z>/AAuthLevel (CLCRED | SRVCRED | OBEX | HTTP), AAuthType
 *        (BASIC | DIGEST | HMAC | ...), AAuthName, AAuthSecret, AAuthData (b64 nonce)
 *   ./DMAcc/<x>/AAuthPref, Ext
 */
import type { AuthScheme } from '../auth';
import type { Item } from '../message';
import { itemPath, itemText, leafItem, nodeItem, nodeName } from './common';

export const DMACC_ROOT = './DMAcc';
export const DMACC_APPID = 'w7';

export type AAuthLevel = 'CLCRED' | 'SRVCRED';
export type AAuthType = 'BASIC' | 'DIGEST' | 'HMAC';

const SCHEME_TO_TYPE: Record<AuthScheme, AAuthType> = { basic: 'BASIC', md5: 'DIGEST', hmac: 'HMAC' };

export function aauthTypeOf(scheme: AuthScheme): AAuthType {
  return SCHEME_TO_TYPE[scheme];
}

export function schemeOfAAuthType(t: string | undefined): AuthScheme | undefined {
  switch (t?.trim().toUpperCase()) {
    case 'BASIC':
      return 'basic';
    case 'DIGEST':
      return 'md5';
    case 'HMAC':
      return 'hmac';
    default:
      return undefined;
  }
}

/** Paths of one account. `x` is the account node name (a handset-chosen or server-chosen name). */
export function dmAccPaths(x: string) {
  const acc = `${DMACC_ROOT}/${nodeName(x)}`;
  return {
    acc,
    AppID: `${acc}/AppID`,
    ServerID: `${acc}/ServerID`,
    Name: `${acc}/Name`,
    PrefConRef: `${acc}/PrefConRef`,
    AAuthPref: `${acc}/AAuthPref`,
    AppAddr: `${acc}/AppAddr`,
    addr: (y: string) => {
      const base = `${acc}/AppAddr/${nodeName(y)}`;
      return { base, Addr: `${base}/Addr`, AddrType: `${base}/AddrType` };
    },
    AppAuth: `${acc}/AppAuth`,
    auth: (z: string) => {
      const base = `${acc}/AppAuth/${nodeName(z)}`;
      return {
        base,
        AAuthLevel: `${base}/AAuthLevel`,
        AAuthType: `${base}/AAuthType`,
        AAuthName: `${base}/AAuthName`,
        AAuthSecret: `${base}/AAuthSecret`,
        AAuthData: `${base}/AAuthData`,
      };
    },
  };
}

export interface AppAuth {
  level: AAuthLevel;
  type: AAuthType;
  name: string;
  /** Write-only on real handsets (Get is refused); absent when read back. */
  secret?: string;
  /** The nonce (base64 as it travels with Format b64). */
  data?: string;
}

export interface DmAccount {
  serverId: string;
  name?: string;
  /** Server URL. */
  addr: string;
  addrType?: 'URI' | 'IPv4' | 'IPv6';
  prefConRef?: string;
  aauthPref?: AAuthType;
  auth: AppAuth[];
}

/**
 * Add items that create a complete account, interior nodes first so a handset that
 * processes items in order never sees a child before its parent.
 */
export function dmAccAddItems(x: string, a: DmAccount): Item[] {
  const p = dmAccPaths(x);
  const items: Item[] = [nodeItem(p.acc), leafItem(p.AppID, DMACC_APPID), leafItem(p.ServerID, a.serverId)];
  if (a.name !== undefined) items.push(leafItem(p.Name, a.name));
  if (a.prefConRef !== undefined) items.push(leafItem(p.PrefConRef, a.prefConRef));
  if (a.aauthPref !== undefined) items.push(leafItem(p.AAuthPref, a.aauthPref));
  const addr = p.addr('1');
  items.push(
    nodeItem(p.AppAddr),
    nodeItem(addr.base),
    leafItem(addr.Addr, a.addr),
    leafItem(addr.AddrType, a.addrType ?? 'URI'),
  );
  items.push(nodeItem(p.AppAuth));
  a.auth.forEach((au, i) => {
    // Level-named nodes are what most provisioning documents use; fall back to numbers for duplicates.
    const taken = a.auth.slice(0, i).some((o) => o.level === au.level);
    const z = p.auth(taken ? String(i + 1) : au.level === 'CLCRED' ? 'CLCRED' : 'SRVCRED');
    items.push(
      nodeItem(z.base),
      leafItem(z.AAuthLevel, au.level),
      leafItem(z.AAuthType, au.type),
      leafItem(z.AAuthName, au.name),
    );
    if (au.secret !== undefined) items.push(leafItem(z.AAuthSecret, au.secret));
    if (au.data !== undefined) items.push(leafItem(z.AAuthData, au.data, { format: 'b64' }));
  });
  return items;
}

/** Replace items that rotate one side's credentials in an existing AppAuth node. */
export function dmAccCredentialItems(x: string, z: string, au: Partial<Omit<AppAuth, 'level'>>): Item[] {
  const a = dmAccPaths(x).auth(z);
  const items: Item[] = [];
  if (au.type !== undefined) items.push(leafItem(a.AAuthType, au.type));
  if (au.name !== undefined) items.push(leafItem(a.AAuthName, au.name));
  if (au.secret !== undefined) items.push(leafItem(a.AAuthSecret, au.secret));
  if (au.data !== undefined) items.push(leafItem(a.AAuthData, au.data, { format: 'b64' }));
  return items;
}

/**
 * Reads every DM 1.2 account out of Results items (e.g. a Get of ./DMAcc?list=StructData
 * or a walk of the subtree). Accounts without ServerID are skipped; AppAuth entries with
 * an unknown level or type are skipped too.
 */
export function parseDmAccounts(items: readonly Item[]): Map<string, DmAccount> {
  const accs = new Map<string, { leaves: Map<string, string> }>();
  for (const item of items) {
    const path = itemPath(item);
    const v = itemText(item);
    if (!path?.startsWith(`${DMACC_ROOT}/`) || v === undefined) continue;
    const rest = path.slice(DMACC_ROOT.length + 1);
    const slash = rest.indexOf('/');
    if (slash <= 0) continue;
    const x = rest.slice(0, slash);
    let acc = accs.get(x);
    if (!acc) {
      if (accs.size >= 64) continue; // bound: no handset has more than a few accounts
      acc = { leaves: new Map() };
      accs.set(x, acc);
    }
    acc.leaves.set(rest.slice(slash + 1), v);
  }
  const out = new Map<string, DmAccount>();
  for (const [x, { leaves }] of accs) {
    const serverId = leaves.get('ServerID');
    if (!serverId) continue;
    const auth: AppAuth[] = [];
    const authNames = new Set<string>();
    let addr: string | undefined;
    let addrType: string | undefined;
    for (const key of leaves.keys()) {
      const m = /^AppAuth\/([^/]+)\//.exec(key);
      if (m) authNames.add(m[1]!);
      const a = /^AppAddr\/([^/]+)\/Addr$/.exec(key);
      if (a && addr === undefined) {
        addr = leaves.get(key);
        addrType = leaves.get(`AppAddr/${a[1]!}/AddrType`);
      }
    }
    for (const z of authNames) {
      const level = leaves.get(`AppAuth/${z}/AAuthLevel`)?.toUpperCase();
      const type = leaves.get(`AppAuth/${z}/AAuthType`)?.toUpperCase();
      if ((level !== 'CLCRED' && level !== 'SRVCRED') || schemeOfAAuthType(type) === undefined) continue;
      const entry: AppAuth = { level, type: type as AAuthType, name: leaves.get(`AppAuth/${z}/AAuthName`) ?? '' };
      const secret = leaves.get(`AppAuth/${z}/AAuthSecret`);
      if (secret !== undefined) entry.secret = secret;
      const data = leaves.get(`AppAuth/${z}/AAuthData`);
      if (data !== undefined) entry.data = data;
      auth.push(entry);
    }
    const acc: DmAccount = { serverId, addr: addr ?? '', auth };
    const name = leaves.get('Name');
    if (name !== undefined) acc.name = name;
    if (addrType === 'URI' || addrType === 'IPv4' || addrType === 'IPv6') acc.addrType = addrType;
    const pref = leaves.get('PrefConRef');
    if (pref !== undefined) acc.prefConRef = pref;
    const aauthPref = leaves.get('AAuthPref')?.toUpperCase();
    if (schemeOfAAuthType(aauthPref) !== undefined) acc.aauthPref = aauthPref as AAuthType;
    out.set(x, acc);
  }
  return out;
}
