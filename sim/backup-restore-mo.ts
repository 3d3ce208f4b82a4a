/**
 * Rewind's Backup & Restore MO on the handset (docs/): the server's Execs (RequestBackup,
 * LocalBackup, LocalRestore, DataSync), each carried out after the session and answered by
 * its result alert; local backups kept on the handset's own storage or smart card; and the
 * policy under which the handset asks for a backup by itself.
 */
import {
  BR,
  CATEGORIES,
  dsAccountRef,
  dsResultAlert,
  localBackupResultAlert,
  localPaths,
  localRestoreResultAlert,
  backupRequestAlert,
  parseCategories,
  parseDataSyncParams,
  parseLocalBackupParams,
  parseLocalRestoreParams,
  parseRequestBackupParams,
  type BrOperation,
  type Category,
  type DataSyncParams,
  type DsStoreResult,
  type LocalManifest,
} from '../lib/omadm/mo/backup-restore';
import {
  BR_DIGEST,
  encodeDigestResult,
  parseDigestRequest,
  subtreeDigest,
  type ChildrenAnswer,
  type DigestAnswer,
  type DigestEntry,
  type DigestRecord,
} from '../lib/omadm/mo/br-digest';
import { createHash } from 'node:crypto';
import { DS_STORE_NAMES, type DsStoreName } from '../lib/ds/protocol';
import type { Item } from '../lib/omadm/message';
import { DEVDETAIL } from '../lib/omadm/mo/devdetail';
import type { CommandOutcome } from '../lib/omadm/session/client-handler';
import { runDsSession, type DsSessionOutcome } from './ds-client';
import type { ManagedObject } from './dm-commands';
import { alertOf, HandsetObject, pendingAlert } from './handset-core';
import { CATEGORY_PATHS, leavesOf, merkleRoot, RESTORABLE } from './local-backup';
import { readNetwork } from './network';
import type { LocalBackupRecord, PendingAlert } from './store';
import { parseUri, type TreeNode } from './tree';

export class BackupRestoreMo extends HandsetObject implements ManagedObject {
  /** The last DS session Exec DataSync ran (for tests and the CLI). */
  lastDsSession: DsSessionOutcome | undefined;
  /** A local backup, local restore or DataSync is running: another is refused (413). */
  private busy = false;

  /** Throws DecodeError when the Exec's parameters do not parse. */
  exec(path: string, item: Item, correlator: string | undefined): CommandOutcome | undefined {
    switch (path) {
      case BR.RequestBackup: {
        const p = parseRequestBackupParams(item.data);
        const categories = p.categories ?? this.policyCategories();
        this.core.work.defer(async () => {
          this.setLastResult('RequestBackup', 200, correlator);
          this.queueAlert(alertOf(correlator, backupRequestAlert({ reason: 'server', categories })));
        });
        return { status: 202 };
      }
      case BR.LocalBackup: {
        const p = parseLocalBackupParams(item.data);
        this.core.work.defer(() => this.runLocalBackup(p.target, p.categories, correlator));
        return { status: 202 };
      }
      case BR.LocalRestore: {
        const p = parseLocalRestoreParams(item.data);
        this.core.work.defer(() => this.runLocalRestore(p.id, p.categories, correlator));
        return { status: 202 };
      }
      case BR.DataSync: {
        const p = parseDataSyncParams(item.data);
        this.core.work.defer(() => this.runDataSync(p, correlator));
        return { status: 202 };
      }
      case BR_DIGEST.Exec: {
        // Answered at once (200), unlike the other operations: the server Gets the result
        // in the same message, so it must be there before the next command is read.
        const req = parseDigestRequest(item.data);
        const result = encodeDigestResult({
          id: req.id,
          nodes: req.paths.map((path) => this.remembered(`n:${path}`, () => this.digestAnswer(path))),
          lists: [
            ...req.children.map((path) => this.remembered(`c:${path}`, () => this.childrenAnswer(path, false))),
            ...req.deep.map((path) => this.remembered(`d:${path}`, () => this.childrenAnswer(path, true))),
          ],
        });
        this.tree.set(BR_DIGEST.Result, result, { format: 'chr', type: 'application/json', access: ['Get'] });
        return { status: 200 };
      }
      default:
        return undefined;
    }
  }

  /**
   * A value's SHA-256, kept as a handset would keep it beside the value: the tree never
   * changes a value in place (every write is a new buffer), so the buffer is the key.
   */
  private static readonly valueHashes = new WeakMap<Uint8Array, Uint8Array>();

  private static valueHash(value: Uint8Array): Uint8Array {
    let h = BackupRestoreMo.valueHashes.get(value);
    if (!h) {
      h = new Uint8Array(createHash('sha256').update(value).digest());
      BackupRestoreMo.valueHashes.set(value, h);
    }
    return h;
  }

  /** The defective firmware's cache (HandsetState.digestFault); an honest handset computes every time. */
  private readonly staleDigests = new Map<string, unknown>();

  private remembered<T>(key: string, compute: () => T): T {
    if (this.core.state.digestFault !== 'stale') return compute();
    if (!this.staleDigests.has(key)) this.staleDigests.set(key, compute());
    return this.staleDigests.get(key) as T;
  }

  /** A node's digest entry as a Get would show it; undefined for a node the server may not read. */
  private digestEntry(node: TreeNode): DigestEntry | undefined {
    if (!node.access.includes('Get')) return undefined;
    const type = node.type !== undefined ? { type: node.type } : {};
    if (node.kind === 'leaf')
      return {
        format: node.format,
        ...type,
        digest: Buffer.from(BackupRestoreMo.valueHash(node.value)).toString('hex'),
      };
    // Readable nodes only, and nothing under an unreadable interior node: what ?list=Struct shows.
    const records: DigestRecord[] = [];
    const visit = (rel: string, n: TreeNode) => {
      if (!n.access.includes('Get')) return;
      if (n.kind === 'leaf')
        records.push({ rel, format: n.format, type: n.type, valueHash: BackupRestoreMo.valueHash(n.value) });
      else {
        records.push({ rel, format: 'node', type: n.type });
        for (const [k, c] of n.children) visit(rel ? `${rel}/${k}` : k, c);
      }
    };
    visit('', node);
    return { format: 'node', ...type, digest: subtreeDigest(records) };
  }

  private digestAnswer(path: string): DigestAnswer {
    const p = parseUri(path);
    if (!p.ok || p.query !== undefined) return { path, status: 400 };
    const node = this.tree.node(path);
    if (!node) return { path, status: 404 };
    const e = this.digestEntry(node);
    return e ? { path, ...e } : { path, status: 405 };
  }

  /** The children of `path` with their digests; with `deep`, every readable descendant (names relative to `path`). */
  private childrenAnswer(path: string, deep: boolean): ChildrenAnswer {
    const node = this.tree.node(path);
    if (!node) return { path, status: 404 };
    if (!node.access.includes('Get')) return { path, status: 405 };
    if (node.kind !== 'interior') return { path, status: 406 };
    const children: NonNullable<ChildrenAnswer['children']> = [];
    const visit = (prefix: string, n: TreeNode & { kind: 'interior' }) => {
      for (const [name, c] of n.children) {
        const e = this.digestEntry(c);
        if (!e) continue; // unreadable: neither it nor anything under it is listed
        children.push({ name: `${prefix}${name}`, ...e });
        if (deep && c.kind === 'interior') visit(`${prefix}${name}/`, c);
      }
    };
    visit('', node);
    return { path, children };
  }

  /** Deleting ./Ext/Rewind/BR/Local/<id> deletes the backup itself. */
  deleted(path: string | undefined): void {
    if (!path?.startsWith(`${BR.Local}/`)) return;
    const id = path.slice(BR.Local.length + 1).split('/')[0]!;
    if (!this.tree.has(`${BR.Local}/${id}`)) this.core.deleteLocal(id);
  }

  /** Local backups present on the handset. */
  localBackups(): LocalManifest[] {
    return this.tree
      .children(BR.Local)
      .map((id) => this.core.loadLocal(id)?.manifest)
      .filter((m): m is LocalManifest => m !== undefined);
  }

  /** The B&R policy's own trigger: queue a 'policy' backup request when the interval has passed. */
  policyTick(): boolean {
    if (this.tree.text(BR.PolicyEnabled) !== 'true') return false;
    const interval = Number(this.tree.text(BR.PolicyInterval) ?? '0');
    if (!(interval > 0)) return false;
    if (!this.networkAllowsBackup()) return false;
    const now = this.core.limits.now().getTime();
    const last = this.core.state.lastPolicyBackupAt ? Date.parse(this.core.state.lastPolicyBackupAt) : undefined;
    if (last !== undefined && now - last < interval * 60_000) return false;
    this.core.state.lastPolicyBackupAt = new Date(now).toISOString();
    this.core.state.pendingAlerts.push(
      pendingAlert(
        { items: [backupRequestAlert({ reason: 'policy', categories: this.policyCategories() })] },
        now,
        new Date(now).toISOString(),
      ),
    );
    return true;
  }

  /** The user's backup button: a backup.request alert (reason user) for the next session. */
  userBackupRequest(categories?: Category[]): PendingAlert {
    return pendingAlert(
      { items: [backupRequestAlert({ reason: 'user', categories: categories ?? this.policyCategories() })] },
      Date.now(),
      this.core.limits.now().toISOString(),
    );
  }

  private networkAllowsBackup(): boolean {
    const net = readNetwork(this.tree, this.core.online);
    if (this.tree.text(BR.PolicyWifiOnly) === 'true' && net.bearer !== 'wifi') return false;
    if (net.roaming && this.tree.text(BR.PolicyRoamingAllowed) !== 'true') return false;
    return true;
  }

  private policyCategories(): Category[] {
    const c = parseCategories(this.tree.text(BR.PolicyCategories));
    return c.length > 0 ? c : [...CATEGORIES];
  }

  private setLastResult(op: BrOperation, result: number, correlator: string | undefined): void {
    const r = {
      op,
      result,
      time: this.core.limits.now().toISOString(),
      ...(correlator !== undefined ? { correlator } : {}),
    };
    this.tree.set(BR.LastResult, JSON.stringify(r), { format: 'chr', type: 'application/json', access: ['Get'] });
  }

  private newLocalId(): string {
    const stamp = this.core.limits
      .now()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    let id = `LB${stamp}`;
    for (let i = 2; this.tree.has(`${BR.Local}/${id}`); i++) id = `LB${stamp}-${i}`;
    return id;
  }

  private async runLocalBackup(
    target: 'device' | 'smartcard',
    categories: Category[],
    correlator: string | undefined,
  ): Promise<void> {
    const done = (result: number, manifest?: LocalManifest) => {
      this.setLastResult('LocalBackup', result, correlator);
      this.core.persist();
      this.queueAlert(alertOf(correlator, localBackupResultAlert(manifest ? { result, manifest } : { result })));
    };
    if (this.busy) return done(413);
    if (target === 'smartcard' && !this.core.state.smartcard) return done(403);
    this.busy = true;
    try {
      const roots: LocalBackupRecord['roots'] = [];
      const leaves = [];
      for (const c of categories) {
        for (const path of CATEGORY_PATHS[c]) {
          const node = this.tree.cloneAt(path) ?? null;
          roots.push({ path, node });
          if (node) leaves.push(...leavesOf(path, node));
        }
      }
      const manifest: LocalManifest = {
        id: this.newLocalId(),
        target,
        time: this.core.limits.now().toISOString(),
        categories,
        entries: leaves.length,
        size: leaves.reduce((a, l) => a + l.value.length, 0),
        rootHash: merkleRoot(leaves),
      };
      try {
        this.core.saveLocal({ manifest, roots });
      } catch {
        return done(402);
      }
      const lp = localPaths(manifest.id);
      this.tree.mkdir(lp.base, { access: ['Get', 'Delete'] });
      this.tree.set(lp.Target, manifest.target, { access: ['Get'] });
      this.tree.set(lp.Time, manifest.time, { access: ['Get'] });
      this.tree.set(lp.Categories, manifest.categories.join(','), { access: ['Get'] });
      this.tree.set(lp.Entries, String(manifest.entries), { format: 'int', access: ['Get'] });
      this.tree.set(lp.Size, String(manifest.size), { format: 'int', access: ['Get'] });
      this.tree.set(lp.RootHash, manifest.rootHash, { access: ['Get'] });
      done(200, manifest);
    } finally {
      this.busy = false;
    }
  }

  private async runLocalRestore(
    id: string,
    categories: Category[] | undefined,
    correlator: string | undefined,
  ): Promise<void> {
    const done = (result: number, entries?: number) => {
      this.setLastResult('LocalRestore', result, correlator);
      this.core.persist();
      this.queueAlert(
        alertOf(correlator, localRestoreResultAlert({ result, id, ...(entries !== undefined ? { entries } : {}) })),
      );
    };
    if (this.busy) return done(413);
    const rec = this.tree.has(`${BR.Local}/${id}`) ? this.core.loadLocal(id) : undefined;
    if (!rec) return done(404);
    const leaves = rec.roots.flatMap((r) => (r.node ? leavesOf(r.path, r.node) : []));
    if (merkleRoot(leaves) !== rec.manifest.rootHash) return done(407);
    const want = (categories ?? rec.manifest.categories).filter(
      (c) => rec.manifest.categories.includes(c) && RESTORABLE.has(c),
    );
    const paths = new Set(want.flatMap((c) => CATEGORY_PATHS[c]));
    let entries = 0;
    for (const r of rec.roots) {
      if (!paths.has(r.path)) continue;
      this.tree.remove(r.path);
      if (r.node) {
        this.tree.graft(r.path, r.node);
        entries += leavesOf(r.path, r.node).length;
      }
    }
    done(200, entries);
  }

  /**
   * Exec DataSync: one DS session against `serverUrl` with the account given (a password,
   * kept as a DS account the server may name by passwordRef next time, or a passwordRef
   * to one already here), then the ds.result alert with per-store counts.
   */
  private async runDataSync(p: DataSyncParams, correlator: string | undefined): Promise<void> {
    const done = (result: number, stores: DsStoreResult[] = []) => {
      this.setLastResult('DataSync', result, correlator);
      this.core.persist();
      this.queueAlert(alertOf(correlator, dsResultAlert({ result, stores })));
    };
    const stores = p.stores.filter((s): s is DsStoreName => (DS_STORE_NAMES as readonly string[]).includes(s));
    if (stores.length === 0) return done(405);
    if (this.busy) return done(413);
    const ds = this.core.ds;
    let password = p.password;
    if (password === undefined) {
      const acc = ds.accounts[p.passwordRef ?? ''];
      if (!acc || acc.user !== p.user) return done(405);
      password = acc.password;
    } else {
      ds.accounts[dsAccountRef(p.user)] = { user: p.user, password, serverUrl: p.serverUrl };
    }
    if (!this.core.online) return done(411);
    this.busy = true;
    try {
      const id = this.core.identity;
      const out = await runDsSession(
        {
          serverUrl: p.serverUrl,
          user: p.user,
          password,
          scheme: id.clientScheme === 'basic' ? 'basic' : 'md5',
          devId: id.devId,
          man: id.man,
          mod: id.mod,
          swV: this.tree.text(DEVDETAIL.SwV) ?? id.firmware,
          encoding: id.encoding,
          maxMsgSize: id.maxMsgSize,
          stores,
          syncType: p.syncType,
          transport: this.core.transport,
          timeoutMs: this.core.limits.messageTimeoutMs,
        },
        ds,
      );
      this.lastDsSession = out;
      if (out.ds) this.core.state.ds = out.ds;
      // Stores asked for that this handset does not have (tasks, notes): reported, not synced.
      const missing = p.stores
        .filter((s) => !stores.includes(s as DsStoreName))
        .map((s): DsStoreResult => ({ store: s, added: 0, replaced: 0, deleted: 0, failed: 0, status: 404 }));
      done(out.result, [
        ...out.stores.map((s): DsStoreResult => ({
          store: s.store,
          added: s.added,
          replaced: s.replaced,
          deleted: s.deleted,
          failed: s.failed,
          status: s.status,
        })),
        ...missing,
      ]);
    } finally {
      this.busy = false;
    }
  }
}
