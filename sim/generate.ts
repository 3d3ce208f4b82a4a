/**
 * Builds a virtual handset's management tree and identity from a seed, deterministically:
 * the same (seed, model, options) always gives the same tree, byte for byte, so tests
 * compare exact content and a fleet of a hundred handsets can be recreated at will.
 *
 * Every part of the handset draws from its own PRNG stream (subSeed(seed, label)), so
 * adding a node to one subtree does not reshuffle the others.
 */
import { nonceBytes, type AuthScheme } from '../lib/omadm/auth';
import type { Encoding } from '../lib/omadm/message';
import { BR, BR_MO_VERSION, CATEGORIES } from '../lib/omadm/mo/backup-restore';
import { BR_DIGEST } from '../lib/omadm/mo/br-digest';
import { DEVDETAIL } from '../lib/omadm/mo/devdetail';
import { DEVINFO } from '../lib/omadm/mo/devinfo';
import { aauthTypeOf, dmAccPaths, DMACC_APPID } from '../lib/omadm/mo/dmacc';
import { FUMO_MO_ID, FumoState, fumoPaths } from '../lib/omadm/mo/fumo';
import { deployedPaths, SCOMO_DEPLOYED, SCOMO_DOWNLOAD, SCOMO_ROOT, ScomoState } from '../lib/omadm/mo/scomo';
import { base64Encode } from '../lib/omadm/util/bytes';
import {
  ANTIVIRUS,
  APPS,
  getModel,
  RINGTONE_NAMES,
  SCREENSAVER_NAMES,
  WALLPAPER_NAMES,
  type AppSpec,
  type ModelSpec,
} from './catalog';
import { certificateDer, MEDIA_MIME, mediaFile, type MediaKind } from './media';
import { hash32, Rng, subSeed } from './random';
import { ACCESS_EXEC, ACCESS_GR, ACCESS_RO, ACCESS_RW, ACCESS_SECRET, DmTree } from './tree';

/** Where each managed object lives in a virtual handset's tree. One place, so they are easy to move. */
export const PATHS = {
  fumoRoot: './FUMO',
  settings: './Settings',
  certificates: './Certificates',
  appData: './AppData',
  ringtones: './AppData/Ringtones',
  wallpapers: './AppData/Wallpapers',
  screensavers: './AppData/Screensavers',
  network: './Ext/Network',
  bearer: './Ext/Network/Bearer',
  roaming: './Ext/Network/Roaming',
  operator: './Ext/Network/Operator',
} as const;

export const SCOMO_MO_ID = 'urn:oma:mo:oma-scomo:1.0';
export const CERT_MIME = 'application/pkix-cert';
/** The DMAcc node name a generated handset keeps its Rewind account under. */
export const DEFAULT_ACCOUNT = 'Rewind';

/** Who a handset is and how it talks to its server. Persisted in identity.json. */
export interface HandsetIdentity {
  devId: string;
  seed: number;
  /** Catalog model id, e.g. "nimbus-n1". */
  model: string;
  man: string;
  mod: string;
  lang: string;
  /** Firmware the handset was generated with (the tree's FwV may have moved on since). */
  firmware: string;
  serverId: string;
  serverUri: string;
  /** DMAcc node name. */
  account: string;
  clientUser: string;
  clientPassword: string;
  serverPassword: string;
  clientScheme: AuthScheme;
  serverScheme: AuthScheme;
  encoding: Encoding;
  maxMsgSize: number;
  maxObjSize: number;
  /** Nonces both sides start from; the server is provisioned with the same pair. */
  initialNonces: { clientNonce: string; serverNonce: string };
}

export interface GenerateOptions {
  serverId?: string;
  serverUri?: string;
  clientScheme?: AuthScheme;
  serverScheme?: AuthScheme;
  encoding?: Encoding;
  /** Default: derived from the seed. */
  clientPassword?: string;
  serverPassword?: string;
  /** One of the model's firmware versions; default drawn from the seed. */
  firmware?: string;
  /**
   * Multiplies every media size (default 1: most files 50-300 KB and one ringtone over
   * 2 MB). 0.01 keeps unit tests and large fleets fast; files never shrink below their
   * headers.
   */
  mediaScale?: number;
  /** Installed applications including the antivirus; default 12. */
  apps?: number;
}

export interface GeneratedHandset {
  identity: HandsetIdentity;
  tree: DmTree;
}

export const DEFAULT_SERVER_ID = 'rewind';
export const DEFAULT_SERVER_URI = 'http://localhost:3000/dm';

/** Luhn check digit, so generated IMEIs validate like real ones. */
export function luhnDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** "IMEI:<15 digits>": the model's TAC, a serial from the seed, the Luhn digit. */
export function imeiFor(seed: number, model: ModelSpec): string {
  const serial = new Rng(subSeed(seed, `imei:${model.id}`)).digits(6);
  const body = model.tac + serial;
  return `IMEI:${body}${luhnDigit(body)}`;
}

/** Normalises a seed given as a number or a label. */
export function seedOf(seed: number | string): number {
  return typeof seed === 'number' ? seed >>> 0 : hash32(seed);
}

/** The identity alone (cheap: no tree, no media). */
export function generateIdentity(
  seedIn: number | string,
  modelId: string,
  opts: GenerateOptions = {},
): HandsetIdentity {
  const seed = seedOf(seedIn);
  const model = getModel(modelId);
  const rng = new Rng(subSeed(seed, 'identity'));
  const devId = imeiFor(seed, model);
  const firmware = opts.firmware ?? rng.pick(model.firmware);
  if (!model.firmware.includes(firmware)) throw new RangeError(`${model.id} has no firmware ${firmware}`);
  const clientPassword = rng.alnum(16);
  const serverPassword = rng.alnum(16);
  const clientNonce = base64Encode(rng.bytes(16));
  const serverNonce = base64Encode(rng.bytes(16));
  return {
    devId,
    seed,
    model: model.id,
    man: model.man,
    mod: model.mod,
    lang: model.lang,
    firmware,
    serverId: opts.serverId ?? DEFAULT_SERVER_ID,
    serverUri: opts.serverUri ?? DEFAULT_SERVER_URI,
    account: DEFAULT_ACCOUNT,
    // The IMEI digits: Basic auth forbids ':' in user names, so not the DevId itself.
    clientUser: devId.slice('IMEI:'.length),
    clientPassword: opts.clientPassword ?? clientPassword,
    serverPassword: opts.serverPassword ?? serverPassword,
    clientScheme: opts.clientScheme ?? 'md5',
    serverScheme: opts.serverScheme ?? opts.clientScheme ?? 'md5',
    encoding: opts.encoding ?? 'xml',
    maxMsgSize: model.maxMsgSize,
    maxObjSize: model.maxObjSize,
    initialNonces: { clientNonce, serverNonce },
  };
}

/** Full handset: identity and tree. */
export function generateHandset(
  seedIn: number | string,
  modelId: string,
  opts: GenerateOptions = {},
): GeneratedHandset {
  const identity = generateIdentity(seedIn, modelId, opts);
  const model = getModel(modelId);
  const tree = new DmTree({
    listStruct: model.listStruct,
    listStructData: model.listStructData,
    props: [...model.nodeProps],
    maxLeafBytes: model.maxObjSize,
    capacityBytes: model.capacityBytes,
    maxTotLen: 512,
    maxSegLen: 64,
  });
  const seed = identity.seed;
  const scale = opts.mediaScale ?? 1;
  if (!(scale > 0)) throw new RangeError('mediaScale must be positive');

  buildDevInfo(tree, identity);
  buildDevDetail(tree, identity, model);
  buildDmAcc(tree, identity);
  buildFumo(tree, identity, model);
  buildScomo(tree, seed, model, opts.apps ?? 12);
  buildSettings(tree, seed, model);
  buildCertificates(tree, seed, identity, model);
  buildMedia(tree, seed, scale);
  buildNetwork(tree, model);
  buildBackupRestore(tree, model);
  return { identity, tree };
}

/** The tree alone. */
export function generateTree(seed: number | string, modelId: string, opts: GenerateOptions = {}): DmTree {
  return generateHandset(seed, modelId, opts).tree;
}

// ---------------------------------------------------------------------------------------

function buildDevInfo(t: DmTree, id: HandsetIdentity): void {
  t.mkdir('./DevInfo', { access: ACCESS_RO });
  t.set(DEVINFO.DevId, id.devId, { access: ACCESS_RO });
  t.set(DEVINFO.Man, id.man, { access: ACCESS_RO });
  t.set(DEVINFO.Mod, id.mod, { access: ACCESS_RO });
  t.set(DEVINFO.DmV, '1.2', { access: ACCESS_RO });
  t.set(DEVINFO.Lang, id.lang, { access: ACCESS_RO });
}

function buildDevDetail(t: DmTree, id: HandsetIdentity, m: ModelSpec): void {
  t.mkdir('./DevDetail', { access: ACCESS_RO });
  t.set(DEVDETAIL.DevTyp, m.devTyp, { access: ACCESS_RO });
  t.set(DEVDETAIL.OEM, m.oem, { access: ACCESS_RO });
  t.set(DEVDETAIL.FwV, id.firmware, { access: ACCESS_RO });
  t.set(DEVDETAIL.SwV, m.swV[id.firmware] ?? id.firmware, { access: ACCESS_RO });
  t.set(DEVDETAIL.HwV, m.hwV, { access: ACCESS_RO });
  t.set(DEVDETAIL.LrgObj, 'true', { format: 'bool', access: ACCESS_RO });
  t.mkdir('./DevDetail/URI', { access: ACCESS_RO });
  t.set(DEVDETAIL.MaxDepth, '0', { format: 'int', access: ACCESS_RO });
  t.set(DEVDETAIL.MaxTotLen, '512', { format: 'int', access: ACCESS_RO });
  t.set(DEVDETAIL.MaxSegLen, '64', { format: 'int', access: ACCESS_RO });
}

function buildDmAcc(t: DmTree, id: HandsetIdentity): void {
  t.mkdir('./DMAcc', { access: ['Get', 'Add'] });
  const p = dmAccPaths(id.account);
  t.mkdir(p.acc, { access: ACCESS_RW });
  t.set(p.AppID, DMACC_APPID, { access: ACCESS_RO });
  t.set(p.ServerID, id.serverId, { access: ACCESS_GR });
  t.set(p.Name, 'Rewind Backup & Restore', { access: ACCESS_GR });
  t.set(p.PrefConRef, '', { access: ACCESS_GR });
  t.set(p.AAuthPref, aauthTypeOf(id.clientScheme), { access: ACCESS_GR });
  const addr = p.addr('1');
  t.set(addr.Addr, id.serverUri, { access: ACCESS_GR });
  t.set(addr.AddrType, 'URI', { access: ACCESS_GR });
  const cl = p.auth('CLCRED');
  t.set(cl.AAuthLevel, 'CLCRED', { access: ACCESS_GR });
  t.set(cl.AAuthType, aauthTypeOf(id.clientScheme), { access: ACCESS_GR });
  t.set(cl.AAuthName, id.clientUser, { access: ACCESS_GR });
  t.set(cl.AAuthSecret, id.clientPassword, { access: ACCESS_SECRET });
  t.set(cl.AAuthData, nonceBytes(id.initialNonces.clientNonce), { format: 'b64', access: ACCESS_GR });
  const sv = p.auth('SRVCRED');
  t.set(sv.AAuthLevel, 'SRVCRED', { access: ACCESS_GR });
  t.set(sv.AAuthType, aauthTypeOf(id.serverScheme), { access: ACCESS_GR });
  t.set(sv.AAuthName, id.serverId, { access: ACCESS_GR });
  t.set(sv.AAuthSecret, id.serverPassword, { access: ACCESS_SECRET });
  t.set(sv.AAuthData, nonceBytes(id.initialNonces.serverNonce), { format: 'b64', access: ACCESS_GR });
}

function buildFumo(t: DmTree, id: HandsetIdentity, m: ModelSpec): void {
  const p = fumoPaths(PATHS.fumoRoot);
  t.mkdir(p.root, { access: ['Get'], type: FUMO_MO_ID });
  t.set(p.PkgName, `${m.mod} firmware`, { access: ACCESS_GR });
  t.set(p.PkgVersion, id.firmware, { access: ACCESS_GR });
  t.mkdir(p.Download, { access: ['Get', 'Exec'] });
  t.set(p.DownloadPkgURL, '', { access: ACCESS_GR });
  t.mkdir(p.Update, { access: ['Get', 'Exec'] });
  t.set(p.UpdatePkgData, new Uint8Array(0), { format: 'bin', access: ['Replace'] });
  t.mkdir(p.DownloadAndUpdate, { access: ['Get', 'Exec'] });
  t.set(p.DownloadAndUpdatePkgURL, '', { access: ACCESS_GR });
  t.set(p.State, String(FumoState.Idle), { format: 'int', access: ACCESS_RO });
}

/** Node name under Deployed for an application id (ids are valid node names already; bound the length). */
export function deployedNodeName(appId: string): string {
  const n = appId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  return n === '' || n === '.' || n === '..' ? 'app' : n;
}

/** Adds (or updates) an installed application's inventory node with its operation nodes. */
export function putDeployed(t: DmTree, app: { id: string; name: string; version: string; active: boolean }): string {
  const node = deployedNodeName(app.id);
  const p = deployedPaths(node);
  t.mkdir(p.base, { access: ['Get'] });
  t.set(p.ID, app.id, { access: ACCESS_RO });
  t.set(p.Name, app.name, { access: ACCESS_RO });
  t.set(p.Version, app.version, { access: ACCESS_RO });
  t.set(p.State, String(app.active ? ScomoState.Active : ScomoState.Inactive), { format: 'int', access: ACCESS_RO });
  t.mkdir(`${p.base}/Operations`, { access: ['Get'] });
  for (const op of ['Activate', 'Deactivate', 'Remove'] as const)
    t.set(p.op(op), new Uint8Array(0), { format: 'null', access: ACCESS_EXEC });
  return node;
}

function appId(m: ModelSpec, a: AppSpec): string {
  return a.thirdParty ? a.id : `${m.appPrefix}.${a.id}`;
}

function buildScomo(t: DmTree, seed: number, m: ModelSpec, count: number): void {
  const rng = new Rng(subSeed(seed, 'scomo'));
  t.mkdir(SCOMO_ROOT, { access: ['Get'], type: SCOMO_MO_ID });
  t.mkdir('./SCOMO/Inventory', { access: ['Get'] });
  t.mkdir(SCOMO_DEPLOYED, { access: ['Get'] });
  t.mkdir(SCOMO_DOWNLOAD, { access: ['Get', 'Add'] });
  const chosen = rng.sample(APPS, Math.max(0, count - 1));
  // The antivirus goes in the middle of the list, where a walk meets it like any other app.
  chosen.splice(Math.floor(chosen.length / 2), 0, ANTIVIRUS);
  for (const a of chosen) {
    putDeployed(t, {
      id: appId(m, a),
      name: a.name,
      version: rng.pick(a.versions),
      active: rng.bool(0.9) || a === ANTIVIRUS,
    });
  }
}

function buildSettings(t: DmTree, seed: number, m: ModelSpec): void {
  const rng = new Rng(subSeed(seed, 'settings'));
  const S = PATHS.settings;
  t.mkdir(S, { access: ['Get'] });
  t.mkdir(`${S}/Display`, { access: ['Get'] });
  t.set(`${S}/Display/Brightness`, String(rng.int(20, 100)), { format: 'int', access: ACCESS_GR });
  t.set(`${S}/Display/Timeout`, String(rng.pick([15, 30, 60, 120, 300])), { format: 'int', access: ACCESS_GR });
  t.set(`${S}/Display/Theme`, rng.pick(['light', 'dark', 'auto']), { access: ACCESS_GR });
  t.set(`${S}/Display/AutoRotate`, String(rng.bool()), { format: 'bool', access: ACCESS_GR });
  t.mkdir(`${S}/Sound`, { access: ['Get'] });
  t.set(`${S}/Sound/RingVolume`, String(rng.int(0, 7)), { format: 'int', access: ACCESS_GR });
  t.set(`${S}/Sound/MediaVolume`, String(rng.int(0, 15)), { format: 'int', access: ACCESS_GR });
  t.set(`${S}/Sound/AlarmVolume`, String(rng.int(1, 7)), { format: 'int', access: ACCESS_GR });
  t.set(`${S}/Sound/Vibrate`, String(rng.bool(0.7)), { format: 'bool', access: ACCESS_GR });
  t.set(`${S}/Sound/Silent`, String(rng.bool(0.1)), { format: 'bool', access: ACCESS_GR });
  t.set(`${S}/Sound/Ringtone`, rng.pick(RINGTONE_NAMES.slice(0, 3)), { access: ACCESS_GR });
  t.mkdir(`${S}/Network`, { access: ['Get'] });
  t.mkdir(`${S}/Network/APN`, { access: ['Get', 'Add'] });
  const op = m.operator.toLowerCase().replace(/[^a-z]/g, '');
  const apns = [
    { x: 'internet', name: `${m.operator} Internet`, apn: `internet.${op}.net`, user: '', proxy: '' },
    {
      x: 'mms',
      name: `${m.operator} MMS`,
      apn: `mms.${op}.net`,
      user: 'mms',
      proxy: `10.${rng.int(0, 255)}.${rng.int(0, 255)}.1:8080`,
    },
  ];
  if (rng.bool(0.4))
    apns.push({
      x: 'corporate',
      name: 'Corporate VPN',
      apn: `corp${rng.int(1, 9)}.${op}.net`,
      user: `u${rng.digits(6)}`,
      proxy: '',
    });
  for (const a of apns) {
    const b = `${S}/Network/APN/${a.x}`;
    t.mkdir(b, { access: ACCESS_RW });
    t.set(`${b}/Name`, a.name);
    t.set(`${b}/APN`, a.apn);
    t.set(`${b}/User`, a.user);
    t.set(`${b}/Proxy`, a.proxy);
  }
  t.mkdir(`${S}/Email`, { access: ['Get', 'Add'] });
  const first = rng.pick(['anna', 'ben', 'chloe', 'dev', 'emil', 'fatima', 'georg', 'hana']);
  const accounts = [
    {
      x: 'personal',
      addr: `${first}.${rng.digits(3)}@${rng.pick(['mailbox.example', 'post.example', 'inbox.example'])}`,
      proto: 'IMAP',
    },
  ];
  if (rng.bool(0.5))
    accounts.push({
      x: 'work',
      addr: `${first}@${rng.pick(['acme.example', 'globex.example'])}`,
      proto: rng.pick(['IMAP', 'POP3']),
    });
  for (const a of accounts) {
    const b = `${S}/Email/${a.x}`;
    const domain = a.addr.split('@')[1]!;
    t.mkdir(b, { access: ACCESS_RW });
    t.set(`${b}/Address`, a.addr);
    t.set(`${b}/Protocol`, a.proto);
    t.set(`${b}/IncomingServer`, `${a.proto === 'IMAP' ? 'imap' : 'pop'}.${domain}`);
    t.set(`${b}/OutgoingServer`, `smtp.${domain}`);
    t.set(`${b}/User`, a.addr);
  }
  t.mkdir(`${S}/Security`, { access: ['Get'] });
  t.set(`${S}/Security/PinLock`, String(rng.bool(0.8)), { format: 'bool', access: ACCESS_GR });
  t.set(`${S}/Security/Encryption`, String(rng.bool(0.6)), { format: 'bool', access: ACCESS_GR });
  t.set(`${S}/Security/AutoLockMinutes`, String(rng.pick([1, 2, 5, 10])), { format: 'int', access: ACCESS_GR });
}

function buildCertificates(t: DmTree, seed: number, id: HandsetIdentity, m: ModelSpec): void {
  const rng = new Rng(subSeed(seed, 'certificates'));
  const C = PATHS.certificates;
  t.mkdir(C, { access: ['Get', 'Add'] });
  const certs = [
    {
      x: 'OperatorRoot',
      subjectCN: `${m.operator} Root CA`,
      subjectO: m.operator,
      issuerCN: `${m.operator} Root CA`,
      issuerO: m.operator,
      bound: false,
      from: 2020,
      to: 2040,
    },
    {
      x: 'WifiClient',
      subjectCN: id.devId,
      subjectO: m.operator,
      issuerCN: `${m.operator} Device CA`,
      issuerO: m.operator,
      bound: true,
      from: 2024,
      to: 2027,
    },
    {
      x: 'EmailSMIME',
      subjectCN: `user-${rng.digits(5)}`,
      subjectO: 'Personal',
      issuerCN: 'Example Mail CA',
      issuerO: 'Example Trust Services',
      bound: false,
      from: 2024,
      to: 2026,
    },
  ];
  if (rng.bool(0.5)) {
    certs.push({
      x: 'CorporateVPN',
      subjectCN: `vpn-${rng.digits(4)}`,
      subjectO: 'Acme Corp',
      issuerCN: 'Acme Issuing CA',
      issuerO: 'Acme Corp',
      bound: true,
      from: 2025,
      to: 2026,
    });
  }
  for (const c of certs) {
    const b = `${C}/${c.x}`;
    t.mkdir(b, { access: ACCESS_RW });
    const der = certificateDer(
      {
        subjectCN: c.subjectCN,
        subjectO: c.subjectO,
        issuerCN: c.issuerCN,
        issuerO: c.issuerO,
        fromYear: c.from,
        toYear: c.to,
      },
      rng,
    );
    t.set(`${b}/Data`, der, { format: 'bin', type: CERT_MIME });
    t.set(`${b}/Issuer`, `CN=${c.issuerCN}, O=${c.issuerO}`);
    t.set(`${b}/Subject`, `CN=${c.subjectCN}, O=${c.subjectO}`);
    t.set(`${b}/DeviceBound`, String(c.bound), { format: 'bool' });
  }
}

const KB = 1024;

function mediaSize(rng: Rng, minKb: number, maxKb: number, scale: number): number {
  return Math.max(64, Math.round(rng.int(minKb * KB, maxKb * KB) * scale));
}

function buildMedia(t: DmTree, seed: number, scale: number): void {
  const rng = new Rng(subSeed(seed, 'media'));
  t.mkdir(PATHS.appData, { access: ['Get'] });
  const folder = (path: string) => t.mkdir(path, { access: ['Get', 'Add'] });
  folder(PATHS.ringtones);
  folder(PATHS.wallpapers);
  folder(PATHS.screensavers);
  const put = (dir: string, name: string, kind: MediaKind, size: number) => {
    // Each file has its own stream, so its bytes do not depend on the files before it.
    const fileRng = new Rng(subSeed(seed, `media:${dir}/${name}`));
    t.set(`${dir}/${name}`, mediaFile(kind, size, fileRng, name), { format: 'bin', type: MEDIA_MIME[kind] });
  };
  const ringtones = rng.sample(RINGTONE_NAMES, 4);
  ringtones.forEach((name, i) => {
    // The first is the big one: over 2 MB at scale 1, so Large Objects are exercised.
    if (i === 0) put(PATHS.ringtones, name, 'mp3', mediaSize(rng, 2100, 2600, scale));
    else put(PATHS.ringtones, name, rng.pick<MediaKind>(['mp3', 'wav', 'midi']), mediaSize(rng, 50, 300, scale));
  });
  for (const name of rng.sample(WALLPAPER_NAMES, 3))
    put(PATHS.wallpapers, name, rng.pick<MediaKind>(['jpeg', 'png']), mediaSize(rng, 80, 300, scale));
  for (const name of rng.sample(SCREENSAVER_NAMES, 2))
    put(PATHS.screensavers, name, 'gif', mediaSize(rng, 50, 200, scale));
}

function buildNetwork(t: DmTree, m: ModelSpec): void {
  t.mkdir('./Ext', { access: ['Get'] });
  t.mkdir(PATHS.network, { access: ['Get'] });
  t.set(PATHS.bearer, 'wifi', { access: ACCESS_RO });
  t.set(PATHS.roaming, 'false', { format: 'bool', access: ACCESS_RO });
  t.set(PATHS.operator, m.operator, { access: ACCESS_RO });
}

function buildBackupRestore(t: DmTree, m: ModelSpec): void {
  t.mkdir('./Ext/Rewind', { access: ['Get'] });
  t.mkdir(BR.root, { access: ['Get'] });
  t.set(BR.Version, BR_MO_VERSION, { access: ACCESS_RO });
  t.mkdir(BR.Policy, { access: ['Get'] });
  t.set(BR.PolicyEnabled, 'true', { format: 'bool', access: ACCESS_GR });
  t.set(BR.PolicyInterval, '1440', { format: 'int', access: ACCESS_GR });
  t.set(BR.PolicyCategories, CATEGORIES.join(','), { access: ACCESS_GR });
  t.set(BR.PolicyWifiOnly, 'true', { format: 'bool', access: ACCESS_GR });
  t.set(BR.PolicyRoamingAllowed, 'false', { format: 'bool', access: ACCESS_GR });
  t.mkdir(BR.Operations, { access: ['Get'] });
  for (const op of [BR.RequestBackup, BR.LocalBackup, BR.LocalRestore, BR.DataSync]) {
    t.set(op, new Uint8Array(0), { format: 'null', access: ACCESS_EXEC });
  }
  if (m.brDigest) {
    t.set(BR_DIGEST.Exec, new Uint8Array(0), { format: 'null', access: ACCESS_EXEC });
    t.mkdir(BR_DIGEST.Node, { access: ['Get'] });
  }
  t.mkdir(BR.Local, { access: ['Get'] });
  t.mkdir(BR.Status, { access: ['Get'] });
}
