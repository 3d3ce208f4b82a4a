import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nonceBytes } from '../lib/omadm/auth';
import type { Command, Item } from '../lib/omadm/message';
import { BR, parseBrAlert } from '../lib/omadm/mo/backup-restore';
import { DEVDETAIL } from '../lib/omadm/mo/devdetail';
import { parseFumoResult } from '../lib/omadm/mo/fumo';
import { parseScomoResult } from '../lib/omadm/mo/scomo';
import { buildNotification } from '../lib/omadm/notification';
import { InProcessPush } from '../lib/omadm/push';
import { dropAt, withFaults } from './faults';
import { getModel } from './catalog';
import { VirtualHandset } from './handset';
import { TransportError } from './transport';
import { buildAppPackage, buildFirmwarePackage } from './packages';
import { HandsetStore } from './store';
import { StubDmServer } from '../test/support/stub-dm-server';
import type { DmTree } from './tree';
import type { HttpReply, HttpRequest, Transport } from './transport';
import { VirtualUser } from './user';

const leaf = (kind: 'Replace' | 'Add', path: string, data: string, format = 'chr'): Command => ({
  kind,
  cmdId: 0,
  items: [{ target: { locURI: path }, meta: { format }, data }],
});
const exec = (path: string, correlator: string, data?: string): Command => ({
  kind: 'Exec',
  cmdId: 0,
  correlator,
  items: [
    {
      target: { locURI: path },
      ...(data !== undefined ? { meta: { format: 'chr', type: 'application/json' }, data } : {}),
    },
  ],
});
const get = (...paths: string[]): Command => ({
  kind: 'Get',
  cmdId: 0,
  items: paths.map((p) => ({ target: { locURI: p } })),
});

function fingerprint(t: DmTree, path: string): string {
  return JSON.stringify(
    t
      .walk(path)
      .map(({ path: p, node }) => [p, node.kind === 'leaf' ? Buffer.from(node.value).toString('base64') : null]),
  );
}

let dir: string;
let handset: VirtualHandset;
const stub = new StubDmServer();

beforeAll(() => stub.start());
afterAll(() => stub.stop());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rewind-handset-'));
  handset = VirtualHandset.create(
    1234,
    'nimbus-n1',
    { mediaScale: 0.01, serverUri: `${stub.url}/dm` },
    { store: new HandsetStore(dir) },
  );
  stub.reset();
  stub.enroll(handset.identity, handset.state.nonces);
});
afterEach(async () => {
  await handset.idle();
  rmSync(dir, { recursive: true, force: true });
});

describe('VirtualHandset.connect', () => {
  it.each(['xml', 'wbxml'] as const)(
    'runs a %s session against an HTTP server: Get answered, then complete',
    async (encoding) => {
      handset = VirtualHandset.create(1234, 'nimbus-n1', { mediaScale: 0.01, serverUri: `${stub.url}/dm`, encoding });
      stub.enroll(handset.identity, handset.state.nonces);
      stub.script = ({ round }) => (round === 1 ? [get('./DevInfo/Mod', './DevDetail/FwV')] : []);
      const s = await handset.connect();
      expect(s).toMatchObject({
        ok: true,
        end: 'complete',
        initiator: 'client',
        messagesOut: 2,
        messagesIn: 2,
        commands: 2,
      });
      expect(s.error).toBeUndefined();
      expect(s.bytesOut).toBeGreaterThan(500);
      expect(s.statusesSent).toEqual({ 200: 2 });
      expect(stub.credFailures).toBe(0);
      const items = stub.results().flatMap((r) => r.items);
      expect(items.map((i) => [i.source?.locURI, i.data])).toEqual([
        ['./DevInfo/Mod', 'N1'],
        ['./DevDetail/FwV', handset.tree.text(DEVDETAIL.FwV)],
      ]);
      // Package #1 was a client-initiated Alert with DevInfo.
      const p1 = stub.received[0]!.msg;
      expect(p1.hdr.source.locURI).toBe(handset.devId);
      expect(p1.body.commands.find((c) => c.kind === 'Alert')).toMatchObject({ data: '1201' });
    },
  );

  it('persists the nonces the server handed out, so the next session authenticates with them', async () => {
    const before = handset.state.nonces.clientNonce;
    await handset.connect();
    expect(handset.state.nonces.clientNonce).not.toBe(before);
    const reloaded = VirtualHandset.load(new HandsetStore(dir), handset.devId);
    expect(reloaded.state.nonces).toEqual(handset.state.nonces);
    const second = await handset.connect();
    expect(second.ok).toBe(true);
    expect(stub.credFailures).toBe(0);
    expect(stub.sessionIds()).toContain('2');
  });

  it('answers Results for a Struct listing and executes Replace/Add from the server', async () => {
    stub.script = ({ round }) =>
      round === 1
        ? [
            leaf('Replace', './Settings/Display/Brightness', '33', 'int'),
            leaf('Add', './Settings/Network/APN/work/APN', 'work.example'),
            leaf('Replace', './DevInfo/Mod', 'X'),
            get('./Settings/Display?list=StructData'),
          ]
        : [];
    const s = await handset.connect();
    expect(s.ok).toBe(true);
    expect(handset.tree.text('./Settings/Display/Brightness')).toBe('33');
    expect(handset.tree.text('./Settings/Network/APN/work/APN')).toBe('work.example');
    expect(handset.tree.text('./DevInfo/Mod')).toBe('N1');
    expect(s.statusesSent).toEqual({ 200: 3, 405: 1 });
    const paths = stub.results().flatMap((r) => r.items.map((i) => i.source?.locURI));
    expect(paths).toContain('./Settings/Display/Brightness');
  });

  it('sends a 2 MB ringtone as a Large Object in chunks that reassemble to the exact bytes', async () => {
    handset = VirtualHandset.create(77, 'korra-k7', { serverUri: `${stub.url}/dm` });
    stub.enroll(handset.identity, handset.state.nonces);
    const big = handset.tree
      .children('./AppData/Ringtones')
      .map((x) => `./AppData/Ringtones/${x}`)
      .find((p) => handset.tree.read(p)!.length > 2 * 1024 * 1024)!;
    stub.script = ({ round }) => (round === 1 ? [get(big)] : []);
    const s = await handset.connect();
    expect(s.ok).toBe(true);
    const chunks = stub.results().flatMap((r) => r.items);
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.slice(0, -1).every((c) => c.moreData)).toBe(true);
    expect(chunks[chunks.length - 1]!.moreData).toBeFalsy();
    const bytes = Buffer.concat(chunks.map((c) => Buffer.from(c.data as string, 'base64')));
    expect(Buffer.compare(bytes, Buffer.from(handset.tree.read(big)!))).toBe(0);
  });

  it('sends the rest of the session to the RespURI the server names', async () => {
    stub.respUri = `${stub.url}/dm/session`;
    stub.script = ({ round }) => (round === 1 ? [get('./DevInfo/Man')] : []);
    const s = await handset.connect();
    expect(s.ok).toBe(true);
    expect(stub.received.map((r) => r.path)).toEqual(['/dm', '/dm/session/1']);
  });

  it('is refused by the stub when its credentials are wrong (the check above is not vacuous)', async () => {
    stub.enroll({ ...handset.identity, clientPassword: 'not-it' }, handset.state.nonces);
    await handset.connect();
    expect(stub.credFailures).toBe(1);
  });

  it('reports transport failures in the summary and keeps undelivered alerts for the next session', async () => {
    handset.transport = withFaults(handset.transport, { rules: [dropAt(1, 'request')] });
    const down = handset.pressBackupButton(['settings']);
    const s = await down;
    expect(s).toMatchObject({ ok: false, end: 'error', error: { kind: 'dropped' } });
    expect(handset.state.pendingAlerts).toHaveLength(1);
    const again = await handset.connect();
    expect(again.ok).toBe(true);
    expect(again.alertsDelivered).toBe(1);
    expect(handset.state.pendingAlerts).toHaveLength(0);
    const br = stub.alerts.map((a) => parseBrAlert(a.alert.items[0]!));
    expect(br).toEqual([
      { kind: 'backupRequest', source: BR.RequestBackup, alert: { reason: 'user', categories: ['settings'] } },
    ]);
  });

  it('fails cleanly when offline or when the server answers an HTTP error', async () => {
    handset.setNetwork({ online: false });
    expect((await handset.connect()).error?.kind).toBe('offline');
    handset.setNetwork({ online: true });
    const s = await handset.connect({ transport: async () => ({ status: 503, headers: {}, body: new Uint8Array(0) }) });
    expect(s.error?.kind).toBe('http-status');
  });
});

describe('Package #0', () => {
  it('opens a server-initiated session with the notification session id, and drops a bad digest silently', async () => {
    const push = new InProcessPush();
    const stop = handset.listen(push);
    const id = handset.identity;
    const secret = { user: id.serverId, password: id.serverPassword };
    const good = buildNotification(
      { uiMode: 1, initiator: 'server', sessionId: 0x1a2b, serverId: id.serverId },
      secret,
      nonceBytes(handset.state.nonces.serverNonce),
    );
    await push.push({ devId: id.devId, address: `inproc:${id.devId}` }, good);
    await handset.idle();
    expect(stub.sessionIds()).toEqual(['1A2B']);
    expect(stub.received[0]!.msg.body.commands.find((c) => c.kind === 'Alert')).toMatchObject({ data: '1200' });

    const bad = buildNotification(
      { uiMode: 1, initiator: 'server', sessionId: 7, serverId: id.serverId },
      { ...secret, password: 'wrong' },
      nonceBytes(handset.state.nonces.serverNonce),
    );
    await push.push({ devId: id.devId, address: `inproc:${id.devId}` }, bad);
    await push.push({ devId: id.devId, address: `inproc:${id.devId}` }, new Uint8Array([1, 2, 3]));
    await handset.idle();
    expect(handset.rejectedNotifications).toBe(2);
    expect(stub.sessionIds()).toEqual(['1A2B']);
    stop();
    expect(push.has(`inproc:${id.devId}`)).toBe(false);
  });

  it('asks the user first in user-interaction mode and stays quiet when they refuse', async () => {
    handset = VirtualHandset.create(
      1234,
      'nimbus-n1',
      { mediaScale: 0.01, serverUri: `${stub.url}/dm` },
      { user: new VirtualUser('reject') },
    );
    const id = handset.identity;
    const pkg = buildNotification(
      { uiMode: 3, initiator: 'server', sessionId: 9, serverId: id.serverId },
      { user: id.serverId, password: id.serverPassword },
      nonceBytes(handset.state.nonces.serverNonce),
    );
    expect(await handset.onNotification(pkg)).toBeUndefined();
    expect(handset.user.prompts).toHaveLength(1);
    expect(handset.user.last?.code).toBe('1101');
    expect(stub.received).toHaveLength(0);
  });
});

describe('FUMO', () => {
  it('DownloadAndUpdate: 202, download, FwV updated, State 100, Generic Alert with the correlator in a new session', async () => {
    const from = handset.tree.text(DEVDETAIL.FwV);
    const to = from === '2.0.1' ? '1.1.0' : '2.0.1';
    stub.files.set(
      '/fw/n1',
      buildFirmwarePackage({ model: 'nimbus-n1', version: to, payload: new Uint8Array(5000).fill(7) }),
    );
    stub.script = ({ round, sessionId }) =>
      sessionId === '1' && round === 1
        ? [
            leaf('Replace', './FUMO/DownloadAndUpdate/PkgURL', `${stub.url}/fw/n1`),
            exec('./FUMO/DownloadAndUpdate', 'job-7'),
          ]
        : [];
    const s = await handset.connect();
    expect(s.statusesSent).toEqual({ 200: 1, 202: 1 });
    await handset.idle();
    expect(handset.tree.text(DEVDETAIL.FwV)).toBe(to);
    expect(handset.tree.text('./FUMO/State')).toBe('100');
    expect(handset.tree.text(DEVDETAIL.SwV)).toBe(getModel('nimbus-n1').swV[to]);
    expect(stub.alerts).toHaveLength(1);
    const a = stub.alerts[0]!;
    expect(a.sessionId).toBe('2');
    expect(a.alert.correlator).toBe('job-7');
    expect(parseFumoResult(a.alert.items[0]!)).toMatchObject({
      operation: 'downloadandupdate',
      resultCode: 200,
      success: true,
      root: './FUMO',
    });
    expect(handset.state.pendingAlerts).toHaveLength(0);
  });

  it('reports a package for another model (403) and a missing one (411) and leaves FwV alone', async () => {
    const from = handset.tree.text(DEVDETAIL.FwV);
    handset.report = 'next-session';
    stub.files.set('/fw/k7', buildFirmwarePackage({ model: 'korra-k7', version: '2.0.1' }));
    handset.tree.set('./FUMO/DownloadAndUpdate/PkgURL', `${stub.url}/fw/k7`);
    expect(await handset.exec({ target: { locURI: './FUMO/DownloadAndUpdate' } }, 'j1')).toEqual({ status: 202 });
    await handset.idle();
    handset.tree.set('./FUMO/Download/PkgURL', `${stub.url}/fw/missing`);
    await handset.exec({ target: { locURI: './FUMO/Download' } }, 'j2');
    await handset.idle();
    expect(handset.tree.text(DEVDETAIL.FwV)).toBe(from);
    expect(handset.tree.text('./FUMO/State')).toBe('20');
    const codes = handset.state.pendingAlerts.map((p) => [
      p.alert.correlator,
      parseFumoResult(p.alert.items[0]!)?.resultCode,
    ]);
    expect(codes).toEqual([
      ['j1', 403],
      ['j2', 411],
    ]);
  });

  it('Download then Update: two alerts, firmware applied on Update', async () => {
    handset.report = 'next-session';
    stub.files.set('/fw/ok', buildFirmwarePackage({ model: 'nimbus-n1', version: '2.0.1' }));
    handset.tree.set('./FUMO/Download/PkgURL', `${stub.url}/fw/ok`);
    await handset.exec({ target: { locURI: './FUMO/Download' } }, 'd');
    await handset.idle();
    expect(handset.tree.text('./FUMO/State')).toBe('40');
    await handset.exec({ target: { locURI: './FUMO/Update' } }, 'u');
    await handset.idle();
    expect(handset.tree.text(DEVDETAIL.FwV)).toBe('2.0.1');
    expect(handset.state.pendingAlerts.map((p) => parseFumoResult(p.alert.items[0]!)?.operation)).toEqual([
      'download',
      'update',
    ]);
  });
});

describe('SCOMO', () => {
  it('DownloadInstall adds the app to the inventory and reports OperationComplete; Remove deletes it', async () => {
    handset.report = 'next-session';
    stub.files.set('/apps/av', buildAppPackage({ id: 'com.shieldsec.shieldav', name: 'ShieldAV', version: '9.9.9' }));
    const av = handset.tree.children('./SCOMO/Inventory/Deployed').find((x) => x.includes('shieldav'))!;
    // The antivirus got corrupted: remove it, then reinstall the same one.
    expect(
      await handset.exec({ target: { locURI: `./SCOMO/Inventory/Deployed/${av}/Operations/Remove` } }, 'rm'),
    ).toEqual({ status: 202 });
    await handset.idle();
    expect(handset.tree.has(`./SCOMO/Inventory/Deployed/${av}`)).toBe(false);
    for (const [p, v] of [
      ['./SCOMO/Download/av1/PkgID', 'com.shieldsec.shieldav'],
      ['./SCOMO/Download/av1/PkgURL', `${stub.url}/apps/av`],
    ] as const) {
      expect((await handset.add({ target: { locURI: p }, meta: { format: 'chr' }, data: v })).status).toBe(200);
    }
    expect(handset.tree.checkExec('./SCOMO/Download/av1/Operations/DownloadInstall')).toBe(200);
    expect(
      await handset.exec({ target: { locURI: './SCOMO/Download/av1/Operations/DownloadInstall' } }, 'inst'),
    ).toEqual({ status: 202 });
    await handset.idle();
    expect(handset.tree.text(`./SCOMO/Inventory/Deployed/${av}/Version`)).toBe('9.9.9');
    expect(handset.tree.text(`./SCOMO/Inventory/Deployed/${av}/State`)).toBe('20');
    const results = handset.state.pendingAlerts.map((p) => [p.alert.correlator, parseScomoResult(p.alert.items[0]!)]);
    expect(results).toEqual([
      ['rm', expect.objectContaining({ resultCode: 1200, identifier: 'com.shieldsec.shieldav' })],
      [
        'inst',
        expect.objectContaining({
          resultCode: 1200,
          identifier: 'com.shieldsec.shieldav',
          source: './SCOMO/Download/av1/Operations/DownloadInstall',
        }),
      ],
    ]);
  });
});

describe('B&R MO', () => {
  const run = async (path: string, correlator: string, payload?: unknown) => {
    const item: Item = {
      target: { locURI: path },
      ...(payload !== undefined
        ? { meta: { format: 'chr', type: 'application/json' }, data: JSON.stringify(payload) }
        : {}),
    };
    const r = await handset.exec(item, correlator);
    await handset.idle();
    return r;
  };
  const alerts = () =>
    handset.state.pendingAlerts.map((p) => ({ correlator: p.alert.correlator, br: parseBrAlert(p.alert.items[0]!) }));

  beforeEach(() => {
    handset.report = 'next-session';
  });

  it('LocalBackup writes a verifiable backup, lists it under Local, and LocalRestore brings the data back', async () => {
    const settings = fingerprint(handset.tree, './Settings');
    const certs = fingerprint(handset.tree, './Certificates');
    expect(
      await run(BR.LocalBackup, 'lb', { target: 'device', categories: ['settings', 'certificates', 'firmware'] }),
    ).toEqual({ status: 202 });
    const [a] = alerts();
    expect(a?.correlator).toBe('lb');
    expect(a?.br?.kind).toBe('localBackupResult');
    const m = a!.br!.kind === 'localBackupResult' ? a!.br!.alert.manifest! : undefined;
    expect(m).toMatchObject({ target: 'device', categories: ['settings', 'certificates', 'firmware'] });
    expect(m!.entries).toBeGreaterThan(20);
    expect(handset.tree.text(`${BR.Local}/${m!.id}/RootHash`)).toBe(m!.rootHash);
    expect(JSON.parse(handset.tree.text(BR.LastResult)!)).toMatchObject({
      op: 'LocalBackup',
      result: 200,
      correlator: 'lb',
    });

    handset.damage('settings');
    handset.damage('certificates');
    expect(fingerprint(handset.tree, './Settings')).not.toBe(settings);
    expect(handset.tree.children('./Certificates')).toEqual([]);
    expect(await run(BR.LocalRestore, 'lr', { id: m!.id })).toEqual({ status: 202 });
    expect(fingerprint(handset.tree, './Settings')).toBe(settings);
    expect(fingerprint(handset.tree, './Certificates')).toBe(certs);
    const restore = alerts()[1]!;
    expect(restore).toMatchObject({
      correlator: 'lr',
      br: { kind: 'localRestoreResult', alert: { result: 200, id: m!.id } },
    });
  });

  it('LocalRestore refuses an unknown id (404) and a tampered backup (407)', async () => {
    await run(BR.LocalRestore, 'x', { id: 'nope' });
    await run(BR.LocalBackup, 'lb', { target: 'device', categories: ['settings'] });
    const id = handset.tree.children(BR.Local)[0]!;
    const store = new HandsetStore(dir);
    const rec = store.loadLocalBackup(handset.devId, id)!;
    const tampered = {
      ...rec,
      roots: rec.roots.map((r) => ({ ...r, node: r.node && handset.tree.cloneAt('./Certificates')! })),
    };
    store.saveLocalBackup(handset.devId, tampered);
    await run(BR.LocalRestore, 'y', { id });
    const results = alerts().map((a) => (a.br?.kind === 'localRestoreResult' ? a.br.alert.result : a.br?.kind));
    expect(results).toEqual([404, 'localBackupResult', 407]);
  });

  it('refuses a smartcard target on a handset without one (403), bad parameters (400), and a DataSync naming a DS account it does not have (405)', async () => {
    handset.state.smartcard = false;
    await run(BR.LocalBackup, 'sc', { target: 'smartcard', categories: ['appdata'] });
    expect(await run(BR.LocalBackup, 'bad', { target: 'cloud', categories: ['appdata'] })).toEqual({ status: 400 });
    await run(BR.DataSync, 'ds', {
      serverUrl: 'https://ds.example/sync',
      user: 'u',
      passwordRef: './DSAcc/1',
      stores: ['contacts'],
      syncType: 'two-way',
    });
    expect(alerts()).toEqual([
      { correlator: 'sc', br: { kind: 'localBackupResult', source: BR.LocalBackup, alert: { result: 403 } } },
      { correlator: 'ds', br: { kind: 'dsResult', source: BR.DataSync, alert: { result: 405, stores: [] } } },
    ]);
  });

  it('DataSync: only stores it has (405 for tasks alone), an unreachable DS server is 411 and leaves the phonebook and its account', async () => {
    await run(BR.DataSync, 'tasks', {
      serverUrl: 'http://127.0.0.1:1/ds',
      user: 'u',
      password: 'p',
      stores: ['tasks'],
      syncType: 'two-way',
    });
    const before = structuredClone(handset.ds.stores);
    handset.transport = () => Promise.reject(new TransportError('network', 'connection refused'));
    await run(BR.DataSync, 'down', {
      serverUrl: 'http://127.0.0.1:1/ds',
      user: 'u',
      password: 'p',
      stores: ['contacts', 'notes'],
      syncType: 'slow',
    });
    const got = alerts().map((a) =>
      a.br?.kind === 'dsResult'
        ? [a.correlator, a.br.alert.result, a.br.alert.stores.map((s) => `${s.store}:${s.status}`)]
        : a.br?.kind,
    );
    expect(got).toEqual([
      ['tasks', 405, []],
      ['down', 411, ['contacts:500', 'notes:404']],
    ]);
    expect(handset.ds.stores).toEqual(before);
    expect(handset.ds.accounts['./DSAcc/u']).toMatchObject({ user: 'u', password: 'p' });
    expect(JSON.parse(handset.tree.text(BR.LastResult)!)).toMatchObject({
      op: 'DataSync',
      result: 411,
      correlator: 'down',
    });
  });

  it('RequestBackup queues a backup.request (reason server) for the policy categories', async () => {
    handset.tree.set(BR.PolicyCategories, 'settings,appdata');
    expect(await run(BR.RequestBackup, 'rb')).toEqual({ status: 202 });
    expect(alerts()).toEqual([
      {
        correlator: 'rb',
        br: {
          kind: 'backupRequest',
          source: BR.RequestBackup,
          alert: { reason: 'server', categories: ['settings', 'appdata'] },
        },
      },
    ]);
  });

  it('an Exec inside a rolled-back Atomic starts nothing', async () => {
    handset.beginAtomic();
    (handset as unknown as { inSession: boolean }).inSession = true;
    await handset.exec({ target: { locURI: BR.RequestBackup } }, 'atomic');
    handset.tree.set('./Settings/Display/Theme', 'neon');
    handset.rollbackAtomic();
    (handset as unknown as { inSession: boolean }).inSession = false;
    expect(handset.tree.text('./Settings/Display/Theme')).not.toBe('neon');
    await handset.connect({ transport: failing });
    await handset.idle();
    expect(handset.state.pendingAlerts).toHaveLength(0);
  });

  it('the policy fires a backup request only on allowed networks and once per interval', () => {
    let now = Date.parse('2025-03-01T00:00:00Z');
    const h = VirtualHandset.create(5, 'korra-k7', { mediaScale: 0.01 }, { now: () => new Date(now) });
    h.setNetwork({ bearer: 'cellular' });
    expect(h.policyTick()).toBe(false); // WifiOnly
    h.setNetwork({ bearer: 'wifi', roaming: true });
    expect(h.policyTick()).toBe(false); // roaming not allowed
    h.setNetwork({ roaming: false });
    expect(h.policyTick()).toBe(true);
    expect(h.policyTick()).toBe(false);
    now += 1440 * 60_000;
    expect(h.policyTick()).toBe(true);
    expect(h.state.pendingAlerts.map((p) => parseBrAlert(p.alert.items[0]!)?.kind)).toEqual([
      'backupRequest',
      'backupRequest',
    ]);
  });
});

const failing: Transport = async (_req: HttpRequest): Promise<HttpReply> => {
  throw new Error('should not be called');
};

describe('tree operations through the handler', () => {
  it('Get of an interior node gives its child list; a missing node 404; a secret 405', async () => {
    const r = await handset.get({ target: { locURI: './Settings' } });
    expect(r.status).toBe(200);
    expect(r.results?.[0]).toMatchObject({
      source: { locURI: './Settings' },
      meta: { format: 'node' },
      data: 'Display/Sound/Network/Email/Security',
    });
    expect((await handset.get({ target: { locURI: './Nope' } })).status).toBe(404);
    expect((await handset.get({ target: { locURI: './DMAcc/Rewind/AppAuth/CLCRED/AAuthSecret' } })).status).toBe(405);
    const wall = handset.tree.children('./AppData/Wallpapers')[0]!;
    const w = await handset.get({ target: { locURI: `./AppData/Wallpapers/${wall}` } });
    expect(w.results?.[0]?.data).toBeInstanceOf(Uint8Array);
  });

  it('Add with b64 data stores the decoded bytes; bad base64 is a 400', async () => {
    const r = await handset.add({
      target: { locURI: './Certificates/New/Data' },
      meta: { format: 'b64', type: 'application/pkix-cert' },
      data: Buffer.from([0x30, 0x82, 0x01]).toString('base64'),
    });
    expect(r.status).toBe(200);
    expect([...handset.tree.read('./Certificates/New/Data')!]).toEqual([0x30, 0x82, 0x01]);
    expect(
      (await handset.add({ target: { locURI: './Certificates/Bad/Data' }, meta: { format: 'b64' }, data: '!!!' }))
        .status,
    ).toBe(400);
    expect(handset.tree.has('./Certificates/Bad')).toBe(false);
  });

  it('a server credential rotation in DMAcc is used by the next session', async () => {
    const acc = `./DMAcc/${handset.identity.account}/AppAuth/CLCRED/AAuthSecret`;
    expect(
      (await handset.replace({ target: { locURI: acc }, meta: { format: 'chr' }, data: 'rotated-pass' })).status,
    ).toBe(200);
    expect(handset.clientConfig().client.password).toBe('rotated-pass');
  });
});
