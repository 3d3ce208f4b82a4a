import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateHandset } from './generate';
import { initialState } from './handset';
import { HandsetStore, INLINE_MAX, sanitizeDevId, sha256Hex } from './store';
import type { DmTree } from './tree';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rewind-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function dump(t: DmTree) {
  return t.walk().map(({ path, node }) => ({
    path,
    kind: node.kind,
    type: node.type,
    access: node.access,
    ...(node.kind === 'leaf'
      ? { format: node.format, value: Buffer.from(node.value).toString('base64') }
      : { children: [...node.children.keys()] }),
  }));
}

describe('HandsetStore', () => {
  it('round-trips state and tree byte for byte, node order and options included', () => {
    const { identity, tree } = generateHandset(21, 'korra-k7', { mediaScale: 0.05 });
    const state = initialState(identity);
    state.pendingAlerts.push({
      id: 'a1',
      alert: {
        correlator: 'job-1',
        items: [
          {
            source: './FUMO/Update',
            type: 'org.openmobilealliance.dm.firmwareupdate.update',
            format: 'int',
            data: '200',
          },
        ],
      },
      createdAt: '2025-01-01T00:00:00.000Z',
    });
    state.nonces = { clientNonce: 'Y24tMQ==', serverNonce: 'c24tMQ==' };
    const store = new HandsetStore(dir);
    expect(store.exists(identity.devId)).toBe(false);
    store.save(state, tree);
    expect(store.exists(identity.devId)).toBe(true);
    expect(store.list()).toEqual([identity.devId]);

    const loaded = store.load(identity.devId);
    expect(loaded.state).toEqual(state);
    expect(dump(loaded.tree)).toEqual(dump(tree));
    expect(loaded.tree.options).toEqual(tree.options);
    // The loaded tree behaves like the original (access types survive).
    expect(loaded.tree.get('./DMAcc/Rewind/AppAuth/CLCRED/AAuthSecret').status).toBe(405);
  });

  it('keeps large values in content-named blobs and small ones inline, so tree.json stays small', () => {
    const { identity, tree } = generateHandset(22, 'nimbus-n1', { mediaScale: 0.05 });
    const store = new HandsetStore(dir);
    store.save(initialState(identity), tree);
    const hd = store.dirOf(identity.devId);
    expect(hd).toBe(join(dir, sanitizeDevId(identity.devId)));
    expect(sanitizeDevId(identity.devId)).toMatch(/^IMEI_\d{15}$/);
    const blobs = readdirSync(join(hd, 'blobs'));
    const big = tree
      .walk()
      .flatMap((e) => (e.node.kind === 'leaf' && e.node.value.length > INLINE_MAX ? [e.node.value] : []));
    expect(blobs.sort()).toEqual([...new Set(big.map(sha256Hex))].sort());
    for (const b of blobs) expect(sha256Hex(new Uint8Array(readFileSync(join(hd, 'blobs', b))))).toBe(b);
    expect(statSync(join(hd, 'tree.json')).size).toBeLessThan(64 * 1024);
  });

  it('removes blobs nothing refers to after a save, but keeps those of local backups', () => {
    const { identity, tree } = generateHandset(23, 'nimbus-n1', { mediaScale: 0.05 });
    const store = new HandsetStore(dir);
    const state = initialState(identity);
    store.save(state, tree);
    const ringtones = tree.children('./AppData/Ringtones');
    const keptByBackup = tree.read(`./AppData/Ringtones/${ringtones[0]!}`)!;
    const dropped = tree.read(`./AppData/Ringtones/${ringtones[1]!}`)!;
    store.saveLocalBackup(identity.devId, {
      manifest: {
        id: 'LB1',
        target: 'device',
        time: '2025-01-01T00:00:00Z',
        categories: ['appdata'],
        entries: 1,
        size: keptByBackup.length,
        rootHash: '0'.repeat(64),
      },
      roots: [
        { path: `./AppData/Ringtones/${ringtones[0]!}`, node: tree.cloneAt(`./AppData/Ringtones/${ringtones[0]!}`)! },
        { path: './Nothing', node: null },
      ],
    });
    tree.remove('./AppData/Ringtones');
    store.save(state, tree);
    const blobs = readdirSync(join(store.dirOf(identity.devId), 'blobs'));
    expect(blobs).toContain(sha256Hex(keptByBackup));
    expect(blobs).not.toContain(sha256Hex(dropped));
    const rec = store.loadLocalBackup(identity.devId, 'LB1')!;
    expect(rec.roots[0]!.node).toMatchObject({ kind: 'leaf', format: 'bin' });
    expect(
      Buffer.compare(Buffer.from((rec.roots[0]!.node as { value: Uint8Array }).value), Buffer.from(keptByBackup)),
    ).toBe(0);
    expect(rec.roots[1]!.node).toBeNull();
    expect(store.localBackupIds(identity.devId)).toEqual(['LB1']);
    expect(() => store.loadLocalBackup(identity.devId, '../x')).toThrow(/bad local backup id/);
  });

  it('refuses a corrupted blob instead of loading wrong bytes', () => {
    const { identity, tree } = generateHandset(24, 'nimbus-n1', { mediaScale: 0.05 });
    const store = new HandsetStore(dir);
    store.save(initialState(identity), tree);
    const blobDir = join(store.dirOf(identity.devId), 'blobs');
    const victim = readdirSync(blobDir)[0]!;
    writeFileSync(join(blobDir, victim), 'garbage');
    expect(() => store.load(identity.devId)).toThrow(/corrupt/);
  });
});
