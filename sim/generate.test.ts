import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BR } from '../lib/omadm/mo/backup-restore';
import { DEVDETAIL } from '../lib/omadm/mo/devdetail';
import { DEVINFO } from '../lib/omadm/mo/devinfo';
import { parseInventory } from '../lib/omadm/mo/scomo';
import { utf8Decode } from '../lib/omadm/util/bytes';
import { MODELS, getModel } from './catalog';
import { generateHandset, generateTree, luhnDigit, PATHS } from './generate';
import { crc32 } from './media';
import type { DmTree } from './tree';

const SMALL = { mediaScale: 0.01 };

/** A digest of every node (path, kind, format, type, access, value) in walk order. */
function fingerprint(t: DmTree): string {
  const h = createHash('sha256');
  for (const { path, node } of t.walk()) {
    h.update(
      `${path}|${node.kind}|${node.kind === 'leaf' ? node.format : ''}|${node.type ?? ''}|${node.access.join(',')}|`,
    );
    if (node.kind === 'leaf') h.update(node.value);
  }
  return h.digest('hex');
}

function inventory(t: DmTree) {
  const items = t
    .walk('./SCOMO/Inventory/Deployed')
    .filter((e) => e.node.kind === 'leaf')
    .map((e) => ({ source: { locURI: e.path }, data: utf8Decode((e.node as { value: Uint8Array }).value) }));
  return parseInventory(items);
}

describe('generateTree', () => {
  it('is deterministic: same seed and model give the identical tree', () => {
    const a = generateTree(42, 'nimbus-n1', SMALL);
    const b = generateTree(42, 'nimbus-n1', SMALL);
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(generateHandset(42, 'nimbus-n1', SMALL).identity).toEqual(generateHandset(42, 'nimbus-n1', SMALL).identity);
    // String seeds are hashed the same way every time too.
    expect(fingerprint(generateTree('alice', 'korra-k7', SMALL))).toBe(
      fingerprint(generateTree('alice', 'korra-k7', SMALL)),
    );
  });

  it('differs between seeds and between models', () => {
    const base = fingerprint(generateTree(42, 'nimbus-n1', SMALL));
    expect(fingerprint(generateTree(43, 'nimbus-n1', SMALL))).not.toBe(base);
    expect(fingerprint(generateTree(42, 'nimbus-n2', SMALL))).not.toBe(base);
    const k7 = generateHandset(42, 'korra-k7', SMALL);
    expect(k7.tree.text(DEVINFO.Man)).toBe('Korra Devices');
    expect(k7.tree.text(DEVINFO.Mod)).toBe('K7');
    expect(k7.tree.options.listStructData).toBe(false);
    expect(generateHandset(42, 'nimbus-n1', SMALL).identity.devId).not.toBe(k7.identity.devId);
  });

  it('builds DevInfo and DevDetail from the catalog with a valid IMEI', () => {
    const { tree, identity } = generateHandset(7, 'nimbus-n2', SMALL);
    const m = getModel('nimbus-n2');
    expect(identity.devId).toMatch(/^IMEI:35\d{13}$/);
    const digits = identity.devId.slice(5);
    expect(digits.startsWith(m.tac)).toBe(true);
    expect(luhnDigit(digits.slice(0, 14))).toBe(Number(digits[14]));
    expect(tree.text(DEVINFO.DevId)).toBe(identity.devId);
    expect(tree.text(DEVINFO.DmV)).toBe('1.2');
    expect(m.firmware).toContain(tree.text(DEVDETAIL.FwV));
    expect(tree.text(DEVDETAIL.SwV)).toBe(m.swV[tree.text(DEVDETAIL.FwV)!]);
    expect(tree.text(DEVDETAIL.LrgObj)).toBe('true');
    expect(tree.get(DEVINFO.DevId).status).toBe(200);
    expect(tree.replace(DEVINFO.DevId, { value: new Uint8Array(1) })).toBe(405);
  });

  it('keeps DMAcc credentials consistent with the identity and hides the secrets from Get', () => {
    const { tree, identity } = generateHandset(7, 'nimbus-n1', {
      ...SMALL,
      clientScheme: 'hmac',
      serverUri: 'http://dm.test/dm',
    });
    const acc = `./DMAcc/${identity.account}`;
    expect(tree.text(`${acc}/AppID`)).toBe('w7');
    expect(tree.text(`${acc}/ServerID`)).toBe(identity.serverId);
    expect(tree.text(`${acc}/AppAddr/1/Addr`)).toBe('http://dm.test/dm');
    expect(tree.text(`${acc}/AppAuth/CLCRED/AAuthType`)).toBe('HMAC');
    expect(tree.text(`${acc}/AppAuth/CLCRED/AAuthName`)).toBe(identity.clientUser);
    expect(tree.text(`${acc}/AppAuth/CLCRED/AAuthSecret`)).toBe(identity.clientPassword);
    expect(tree.get(`${acc}/AppAuth/CLCRED/AAuthSecret`).status).toBe(405);
    expect(tree.text(`${acc}/AppAuth/SRVCRED/AAuthSecret`)).toBe(identity.serverPassword);
    expect(identity.clientUser).not.toContain(':');
    expect(identity.clientPassword).not.toBe(identity.serverPassword);
    // Passwords given by the caller win over derived ones.
    expect(generateHandset(7, 'nimbus-n1', { ...SMALL, clientPassword: 'pw1' }).identity.clientPassword).toBe('pw1');
  });

  it('installs twelve applications, one of them the ShieldAV antivirus, with operation nodes', () => {
    const t = generateTree(99, 'korra-k7', SMALL);
    const apps = inventory(t);
    expect(apps).toHaveLength(12);
    expect(new Set(apps.map((a) => a.id)).size).toBe(12);
    const av = apps.find((a) => a.name === 'ShieldAV');
    expect(av).toBeDefined();
    expect(av!.active).toBe(true);
    for (const a of apps) expect(a.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(t.checkExec(`./SCOMO/Inventory/Deployed/${av!.node}/Operations/Remove`)).toBe(200);
  });

  it('has the FUMO node idle and the B&R MO with its default policy', () => {
    const t = generateTree(5, 'nimbus-n1', SMALL);
    expect(t.text('./FUMO/State')).toBe('10');
    expect(t.has('./FUMO/Download/PkgURL')).toBe(true);
    expect(t.has('./FUMO/DownloadAndUpdate/PkgURL')).toBe(true);
    expect(t.checkExec('./FUMO/DownloadAndUpdate')).toBe(200);
    expect(t.text(BR.Version)).toBe('1.0');
    expect(t.text(BR.PolicyEnabled)).toBe('true');
    expect(t.text(BR.PolicyCategories)).toBe('settings,certificates,appdata,applications,firmware');
    for (const op of [BR.RequestBackup, BR.LocalBackup, BR.LocalRestore, BR.DataSync])
      expect(t.checkExec(op)).toBe(200);
    expect(t.text(PATHS.bearer)).toBe('wifi');
    expect(t.text(PATHS.roaming)).toBe('false');
  });

  it('has settings with APNs, email accounts and security', () => {
    const t = generateTree(5, 'nimbus-n1', SMALL);
    expect(t.children('./Settings')).toEqual(['Display', 'Sound', 'Network', 'Email', 'Security']);
    expect(t.children('./Settings/Network/APN')).toEqual(expect.arrayContaining(['internet', 'mms']));
    for (const x of t.children('./Settings/Network/APN')) {
      expect(t.children(`./Settings/Network/APN/${x}`)).toEqual(['Name', 'APN', 'User', 'Proxy']);
    }
    expect(t.text('./Settings/Email/personal/Address')).toMatch(/@/);
    expect(['true', 'false']).toContain(t.text('./Settings/Security/PinLock'));
  });

  it('has certificates that parse as X.509, typed application/pkix-cert, one device-bound', () => {
    const t = generateTree(11, 'nimbus-n2', SMALL);
    const names = t.children('./Certificates');
    expect(names.length).toBeGreaterThanOrEqual(3);
    let bound = 0;
    for (const x of names) {
      const data = t.node(`./Certificates/${x}/Data`);
      expect(data).toMatchObject({ kind: 'leaf', format: 'bin', type: 'application/pkix-cert' });
      const cert = new X509Certificate(Buffer.from(t.read(`./Certificates/${x}/Data`)!));
      expect(cert.issuer).toContain(t.text(`./Certificates/${x}/Issuer`)!.split(', ')[0]!.slice(3));
      if (t.text(`./Certificates/${x}/DeviceBound`) === 'true') bound++;
    }
    expect(bound).toBeGreaterThanOrEqual(1);
  });

  it('makes media with real headers, most 50-300 KB and one ringtone over 2 MB', () => {
    const t = generateTree(3, 'korra-k7');
    const files = [PATHS.ringtones, PATHS.wallpapers, PATHS.screensavers].flatMap((d) =>
      t.children(d).map((x) => `${d}/${x}`),
    );
    expect(files.length).toBeGreaterThanOrEqual(8);
    const sizes = files.map((f) => t.read(f)!.length);
    const big = sizes.filter((s) => s >= 2 * 1024 * 1024);
    expect(big).toHaveLength(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(getModel('korra-k7').maxObjSize);
    for (const s of sizes.filter((x) => x < 2 * 1024 * 1024)) {
      expect(s).toBeGreaterThanOrEqual(50 * 1024);
      expect(s).toBeLessThanOrEqual(300 * 1024);
    }
    for (const f of files) {
      const b = t.read(f)!;
      const type = (t.node(f) as { type: string }).type;
      const head = Buffer.from(b.subarray(0, 12));
      if (type === 'image/png') {
        expect([...b.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        // IHDR's CRC is right.
        expect(Buffer.from(b.subarray(29, 33)).readUInt32BE(0)).toBe(crc32(b, 12, 29));
        expect(Buffer.from(b.subarray(12, 16)).toString()).toBe('IHDR');
        expect(Buffer.from(b.subarray(b.length - 8, b.length - 4)).toString()).toBe('IEND');
      } else if (type === 'image/jpeg') {
        expect([b[0], b[1], b[b.length - 2], b[b.length - 1]]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
      } else if (type === 'image/gif') {
        expect(head.subarray(0, 6).toString()).toBe('GIF89a');
      } else if (type === 'audio/mpeg') {
        expect(head.subarray(0, 3).toString()).toBe('ID3');
      } else if (type === 'audio/wav') {
        expect(head.subarray(0, 4).toString()).toBe('RIFF');
        expect(Buffer.from(b).readUInt32LE(4)).toBe(b.length - 8);
      } else if (type === 'audio/midi') {
        expect(head.subarray(0, 4).toString()).toBe('MThd');
      } else {
        throw new Error(`unexpected media type ${type}`);
      }
    }
  });

  it('scales media with mediaScale, never below the headers', () => {
    const small = generateTree(3, 'korra-k7', { mediaScale: 0.01 });
    const sizes = [PATHS.ringtones, PATHS.wallpapers].flatMap((d) =>
      small.children(d).map((x) => small.read(`${d}/${x}`)!.length),
    );
    expect(Math.max(...sizes)).toBeLessThan(30 * 1024);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(64);
  });

  it('generates every catalog model and refuses unknown models and firmware', () => {
    for (const m of MODELS) expect(generateHandset(1, m.id, SMALL).identity.model).toBe(m.id);
    expect(() => generateTree(1, 'nokia-3310')).toThrow(/unknown model/);
    expect(() => generateTree(1, 'nimbus-n1', { firmware: '9.9.9' })).toThrow(/firmware/);
    expect(generateTree(1, 'nimbus-n1', { ...SMALL, firmware: '2.0.1' }).text(DEVDETAIL.FwV)).toBe('2.0.1');
  });
});
