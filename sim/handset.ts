/**
 * A virtual handset: a DM tree, the managed objects' behaviour on top of it (FUMO, SCOMO,
 * Rewind's B&R MO), a user who answers UI alerts, and the client side of DM sessions over
 * HTTP. It implements ClientHandler for the protocol engine (ClientSession) and adds what
 * a real phone does around sessions: Package #0 handling, a schedule, asynchronous
 * operations reported by Generic Alerts, and persistence.
 *
 * Asynchronous operations (a firmware download, an app install, a local backup) start
 * when the session that asked for them ends, like on a real handset that will not
 * download over a DM session it is still in. Their Generic Alerts go into
 * `state.pendingAlerts`; by default (report 'immediate') the handset then opens a
 * client-initiated session to deliver them, otherwise they ride along with the next one.
 * An alert stays pending until a session carrying it completes, so a dropped session
 * delivers it again next time.
 */
import { nonceBytes, type Secret } from '../lib/omadm/auth';
import { DecodeError } from '../lib/omadm/errors';
import { MIME, type Item } from '../lib/omadm/message';
import {
  BR, CATEGORIES, dsResultAlert, localBackupResultAlert, localPaths, localRestoreResultAlert, backupRequestAlert,
  parseCategories, parseDataSyncParams, parseLocalBackupParams, parseLocalRestoreParams, parseRequestBackupParams,
  type BrOperation, type Category, type DataSyncParams, type DsStoreResult, type LocalManifest,
} from '../lib/omadm/mo/backup-restore';
import { DS_STORE_NAMES, type DsStoreName } from '../lib/ds/protocol';
import { DEVDETAIL } from '../lib/omadm/mo/devdetail';
import { dmAccPaths, parseDmAccounts, schemeOfAAuthType } from '../lib/omadm/mo/dmacc';
import { FUMO_ALERT, FumoState, fumoPaths, type FumoOperation } from '../lib/omadm/mo/fumo';
import type { GenericAlert, GenericAlertItem } from '../lib/omadm/mo/generic-alert';
import { deployedPaths, downloadPaths, SCOMO_ALERT_OPERATION_COMPLETE, ScomoState } from '../lib/omadm/mo/scomo';
import { notificationSessionId, parseNotification, verifyNotification } from '../lib/omadm/notification';
import type { InProcessPush } from '../lib/omadm/push';
import type { ClientHandler, CommandOutcome, UiAlertRequest, UiAlertResponse } from '../lib/omadm/session/client-handler';
import { ClientSession, ClientSessionError, type ClientConfig, type ClientEvent, type Outgoing } from '../lib/omadm/session/client';
import { utf8Decode } from '../lib/omadm/util/bytes';
import { itemValue } from '../lib/omadm/value';
import { getModel, RINGTONE_NAMES } from './catalog';
import { runDsSession, type DsSessionOutcome } from './ds-client';
import { dsAccountRef, generatedHandsetDs, userPut, type HandsetDs } from './ds-store';
import { generateHandset, PATHS, putDeployed, type GenerateOptions, type HandsetIdentity } from './generate';
import { CATEGORY_PATHS, leavesOf, merkleRoot, RESTORABLE } from './local-backup';
import { checkAppPackage, checkFirmwarePackage } from './packages';
import type { HandsetState, HandsetStore, LocalBackupRecord, PendingAlert } from './store';
import { httpTransport, TransportError, type Transport } from './transport';
import { canonicalPath, ACCESS_EXEC, type DmTree, type TreeSnapshot } from './tree';
import { VirtualUser } from './user';

export interface HandsetOptions {
  /** Persist here after every session and asynchronous operation. */
  store?: HandsetStore;
  user?: VirtualUser;
  transport?: Transport;
  /** 'immediate' (default): open a session as soon as an operation's alert is ready; 'next-session': wait. */
  report?: 'immediate' | 'next-session';
  /** Per DM message round trip. Default 30 s. */
  messageTimeoutMs?: number;
  /** Whole session. Default 5 min. */
  sessionTimeoutMs?: number;
  /** Package downloads. Default 60 s and 64 MiB. */
  downloadTimeoutMs?: number;
  maxDownloadBytes?: number;
  /** Largest DM reply we read. Default 4 MiB (more than any sane MaxMsgSize). */
  maxReplyBytes?: number;
  now?: () => Date;
}

export interface ConnectOptions {
  initiator?: 'server' | 'client';
  /** Default: the handset's next client SessionID (hex). */
  sessionId?: string;
  /** Override the server URL (default: DMAcc AppAddr). */
  url?: string;
  transport?: Transport;
  /** Skip the session when no Generic Alert is waiting (used to deliver alerts). */
  onlyIfPending?: boolean;
}

export type SessionErrorKind =
  | 'timeout' | 'network' | 'dropped' | 'too-large' | 'bad-url' | 'http-status' | 'offline' | 'internal'
  | ClientSessionError['code'];

export interface SessionSummary {
  devId: string;
  ok: boolean;
  sessionId: string;
  initiator: 'server' | 'client';
  url: string;
  startedAt: string;
  durationMs: number;
  messagesOut: number;
  messagesIn: number;
  bytesOut: number;
  bytesIn: number;
  /** Server commands we executed, and the statuses we answered them with, by code. */
  commands: number;
  statusesSent: Record<string, number>;
  /** The server's statuses for our commands, by code. */
  statusesReceived: Record<string, number>;
  alertsDelivered: number;
  uiAlerts: number;
  end: 'complete' | 'aborted-by-server' | 'error' | 'skipped';
  error?: { kind: SessionErrorKind; message: string };
}

const DEFAULTS = {
  messageTimeoutMs: 30_000,
  sessionTimeoutMs: 5 * 60_000,
  downloadTimeoutMs: 60_000,
  maxDownloadBytes: 64 * 1024 * 1024,
  maxReplyBytes: 4 * 1024 * 1024,
};

const MAX_SESSION_HISTORY = 50;

function bump(m: Record<string, number>, k: string | number): void {
  const key = String(k);
  m[key] = (m[key] ?? 0) + 1;
}

function errorKind(e: unknown): { kind: SessionErrorKind; message: string } {
  if (e instanceof TransportError) return { kind: e.code, message: e.message };
  if (e instanceof ClientSessionError) return { kind: e.code, message: e.message };
  if (e instanceof HttpStatusError) return { kind: 'http-status', message: e.message };
  if (e instanceof OfflineError) return { kind: 'offline', message: e.message };
  return { kind: 'internal', message: e instanceof Error ? e.message : String(e) };
}

class HttpStatusError extends Error {}
class OfflineError extends Error {}

let alertSeq = 0;

export class VirtualHandset implements ClientHandler {
  readonly tree: DmTree;
  state: HandsetState;
  readonly user: VirtualUser;
  transport: Transport;
  readonly store: HandsetStore | undefined;
  report: 'immediate' | 'next-session';
  /** Most recent sessions, oldest first. */
  readonly sessions: SessionSummary[] = [];
  /** Package #0s that failed verification or parsing (dropped silently, as a real handset does). */
  rejectedNotifications = 0;
  online = true;
  /** Fault injection: writes to these paths are answered 200 and not stored. */
  ignoreWrites: ((path: string) => boolean) | undefined;

  private readonly opts: Required<Omit<HandsetOptions, 'store' | 'user' | 'transport' | 'report'>>;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly background = new Set<Promise<unknown>>();
  private afterSession: Array<() => Promise<void>> = [];
  private inSession = false;
  private atomic: { snap: TreeSnapshot; jobs: number } | undefined;
  private readonly memLocal = new Map<string, LocalBackupRecord>();
  private readonly listeners = new Set<(s: SessionSummary) => void>();
  private busyBr = false;
  /** The last DS session Exec DataSync ran (for tests and the CLI). */
  lastDsSession: DsSessionOutcome | undefined;

  constructor(state: HandsetState, tree: DmTree, opts: HandsetOptions = {}) {
    this.state = state;
    this.tree = tree;
    this.user = opts.user ?? new VirtualUser('accept');
    this.transport = opts.transport ?? httpTransport;
    this.store = opts.store;
    this.report = opts.report ?? 'immediate';
    this.opts = {
      messageTimeoutMs: opts.messageTimeoutMs ?? DEFAULTS.messageTimeoutMs,
      sessionTimeoutMs: opts.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs,
      downloadTimeoutMs: opts.downloadTimeoutMs ?? DEFAULTS.downloadTimeoutMs,
      maxDownloadBytes: opts.maxDownloadBytes ?? DEFAULTS.maxDownloadBytes,
      maxReplyBytes: opts.maxReplyBytes ?? DEFAULTS.maxReplyBytes,
      now: opts.now ?? (() => new Date()),
    };
  }

  /** A new handset from a seed (not saved until `save()` or its first session). */
  static create(seed: number | string, model: string, gen: GenerateOptions = {}, opts: HandsetOptions = {}): VirtualHandset {
    const { identity, tree } = generateHandset(seed, model, gen);
    return new VirtualHandset(initialState(identity), tree, opts);
  }

  static load(store: HandsetStore, devId: string, opts: Omit<HandsetOptions, 'store'> = {}): VirtualHandset {
    const { state, tree } = store.load(devId);
    return new VirtualHandset(state, tree, { ...opts, store });
  }

  get identity(): HandsetIdentity {
    return this.state.identity;
  }

  get devId(): string {
    return this.state.identity.devId;
  }

  save(): void {
    this.store?.save(this.state, this.tree);
  }

  /** Called with every session's summary (fleets collect statistics this way). */
  onSession(fn: (s: SessionSummary) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // =====================================================================================
  // Sessions

  /** The account the handset uses, read from its DMAcc (so a server's credential rotation takes effect). */
  clientConfig(url?: string): ClientConfig {
    const id = this.identity;
    const items: Item[] = [];
    for (const { path, node } of this.tree.walk('./DMAcc')) {
      if (node.kind !== 'leaf') continue;
      items.push({ source: { locURI: path }, data: node.format === 'b64' || node.format === 'bin' ? '' : utf8Decode(node.value, false) });
    }
    const accounts = parseDmAccounts(items);
    const acc = [...accounts.values()].find((a) => a.serverId === id.serverId) ?? accounts.get(id.account);
    const cl = acc?.auth.find((a) => a.level === 'CLCRED');
    const sv = acc?.auth.find((a) => a.level === 'SRVCRED');
    const client: Secret = { user: cl?.name || id.clientUser, password: cl?.secret ?? id.clientPassword };
    const server: Secret = { user: id.serverId, password: sv?.secret ?? id.serverPassword };
    return {
      devId: id.devId,
      serverId: id.serverId,
      serverUri: url ?? (acc?.addr || id.serverUri),
      encoding: id.encoding,
      clientScheme: schemeOfAAuthType(cl?.type) ?? id.clientScheme,
      client,
      serverScheme: schemeOfAAuthType(sv?.type) ?? id.serverScheme,
      server,
      maxMsgSize: id.maxMsgSize,
      maxObjSize: id.maxObjSize,
      devInfo: { man: id.man, mod: id.mod, dmV: '1.2', lang: id.lang },
    };
  }

  /**
   * Runs one complete DM session over HTTP. Sessions of one handset never overlap: a
   * call while one runs waits for it. Never rejects; failures are in the summary.
   */
  connect(opts: ConnectOptions = {}): Promise<SessionSummary> {
    const run = this.chain.then(() => this.runSession(opts));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private nextClientSessionId(): string {
    const n = this.state.nextSessionId;
    this.state.nextSessionId = n >= 0xffff ? 1 : n + 1;
    return n.toString(16).toUpperCase();
  }

  private async runSession(opts: ConnectOptions): Promise<SessionSummary> {
    const started = Date.now();
    const initiator = opts.initiator ?? 'client';
    const pending = [...this.state.pendingAlerts];
    const cfg = this.clientConfig(opts.url);
    const summary: SessionSummary = {
      devId: this.devId, ok: false, sessionId: opts.sessionId ?? '', initiator, url: cfg.serverUri,
      startedAt: this.opts.now().toISOString(), durationMs: 0, messagesOut: 0, messagesIn: 0, bytesOut: 0, bytesIn: 0,
      commands: 0, statusesSent: {}, statusesReceived: {}, alertsDelivered: 0, uiAlerts: 0, end: 'error',
    };
    if (opts.onlyIfPending && pending.length === 0) {
      summary.ok = true;
      summary.end = 'skipped';
      return summary;
    }
    summary.sessionId = opts.sessionId ?? this.nextClientSessionId();
    const session = new ClientSession(cfg, {
      sessionId: summary.sessionId,
      initiator,
      genericAlerts: pending.map((p) => p.alert),
      nonces: { ...this.state.nonces },
    }, this);
    const transport = opts.transport ?? this.transport;
    const deadline = started + this.opts.sessionTimeoutMs;
    this.inSession = true;
    try {
      if (!this.online) throw new OfflineError('handset has no network');
      let out: Outgoing | null = session.firstMessage();
      while (out) {
        const left = deadline - Date.now();
        if (left <= 0) throw new TransportError('timeout', `session exceeded ${this.opts.sessionTimeoutMs} ms`);
        const reply = await transport({
          method: 'POST', url: out.url, headers: out.headers, body: out.body,
          timeoutMs: Math.min(this.opts.messageTimeoutMs, left), maxReplyBytes: this.opts.maxReplyBytes,
        });
        if (reply.status < 200 || reply.status > 299) throw new HttpStatusError(`server answered HTTP ${reply.status}`);
        if (reply.body.length > 0 && !reply.headers['content-type']) reply.headers['content-type'] = cfg.encoding === 'wbxml' ? MIME.dmWbxml : MIME.dmXml;
        out = await session.receive(reply.body, reply.headers);
      }
      summary.ok = true;
      summary.end = session.status === 'aborted' ? 'aborted-by-server' : 'complete';
      // Delivered: drop exactly the alerts this session carried (new ones may have arrived meanwhile).
      const sent = new Set(pending.map((p) => p.id));
      this.state.pendingAlerts = this.state.pendingAlerts.filter((p) => !sent.has(p.id));
      summary.alertsDelivered = pending.length;
    } catch (e) {
      summary.error = errorKind(e);
      summary.end = 'error';
    } finally {
      this.inSession = false;
      this.state.nonces = session.nonces;
      this.syncNonceLeaves();
    }
    this.tally(summary, session.events);
    summary.durationMs = Date.now() - started;
    this.sessions.push(summary);
    if (this.sessions.length > MAX_SESSION_HISTORY) this.sessions.shift();
    this.persist();
    for (const fn of this.listeners) {
      try { fn(summary); } catch { /* a listener's bug is not the handset's */ }
    }
    // Operations the session asked for start now that it is over.
    const jobs = this.afterSession;
    this.afterSession = [];
    for (const job of jobs) this.track(job());
    return summary;
  }

  private tally(s: SessionSummary, events: readonly ClientEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'message-out': s.messagesOut++; s.bytesOut += e.bytes; break;
        case 'message-in': s.messagesIn++; s.bytesIn += e.bytes; break;
        case 'command': s.commands++; bump(s.statusesSent, e.status); break;
        case 'ui-alert': s.uiAlerts++; bump(s.statusesSent, e.status); break;
        case 'status': bump(s.statusesReceived, e.status); break;
        default: break;
      }
    }
  }

  /** Mirrors the session nonces into DMAcc AAuthData, where a real handset keeps them. */
  private syncNonceLeaves(): void {
    const p = dmAccPaths(this.identity.account);
    const set = (path: string, nonce: string) => {
      if (this.tree.has(path)) this.tree.set(path, nonceBytes(nonce), { format: 'b64' });
    };
    set(p.auth('CLCRED').AAuthData, this.state.nonces.clientNonce);
    set(p.auth('SRVCRED').AAuthData, this.state.nonces.serverNonce);
  }

  private persist(): void {
    try {
      this.save();
    } catch {
      // A full disk must not take the handset down; the next save retries.
    }
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch(() => undefined).finally(() => this.background.delete(t));
    this.background.add(t);
  }

  /** Resolves once no session, operation or follow-up session is running or queued. */
  async idle(): Promise<void> {
    for (;;) {
      await this.chain;
      if (this.background.size === 0) {
        await this.chain;
        if (this.background.size === 0) return;
      }
      await Promise.all([...this.background]);
    }
  }

  /** Queues a Generic Alert and, in 'immediate' mode, opens a session to deliver it. */
  private queueAlert(alert: GenericAlert): void {
    this.state.pendingAlerts.push({ id: `${Date.now().toString(36)}-${++alertSeq}`, alert, createdAt: this.opts.now().toISOString() });
    this.persist();
    if (this.report === 'immediate') this.track(this.connect({ initiator: 'client', onlyIfPending: true }));
  }

  /** Runs an operation after the current session, or now when there is none. */
  private defer(job: () => Promise<void>): void {
    if (this.inSession) this.afterSession.push(job);
    else this.track(job());
  }

  // =====================================================================================
  // Package #0, schedule, user actions, network

  /** Listens for Package #0 at inproc:<devId>. Returns the unregister function. */
  listen(push: InProcessPush): () => void {
    return push.register(`inproc:${this.devId}`, (pkg) => {
      this.track(this.onNotification(pkg));
    });
  }

  /**
   * Handles a Package #0: a bad digest or a package for another server is dropped without
   * a word (a real handset gives an attacker nothing to probe); ui-mode 2 shows a notice,
   * 3 asks the user first; then a server-initiated session with the notification's id.
   */
  async onNotification(pkg: Uint8Array): Promise<SessionSummary | undefined> {
    let n: ReturnType<typeof parseNotification>;
    try {
      n = parseNotification(pkg);
    } catch {
      this.rejectedNotifications++;
      return undefined;
    }
    const cfg = this.clientConfig();
    const secret: Secret = { user: this.identity.serverId, ...(cfg.server.password !== undefined ? { password: cfg.server.password } : {}) };
    if (n.serverId !== this.identity.serverId || !verifyNotification(pkg, secret, nonceBytes(this.state.nonces.serverNonce))) {
      this.rejectedNotifications++;
      return undefined;
    }
    if (n.uiMode === 2) {
      await this.user.answer({ code: '1100', options: {}, text: 'Your operator is updating your phone settings.', choices: [] });
    } else if (n.uiMode === 3) {
      const a = await this.user.answer({ code: '1101', options: {}, text: 'Your operator requests a management session. Allow?', choices: [] });
      if (a.status !== 200) return undefined;
    }
    return this.connect({ initiator: 'server', sessionId: notificationSessionId(n.sessionId) });
  }

  /**
   * Connects every `everyMs` (the first after `everyMs`), also firing the B&R policy's
   * automatic backup request when due. Stops after `maxSessions` or when the returned
   * function is called.
   */
  startSchedule(everyMs: number, opts: { maxSessions?: number } = {}): () => void {
    if (!(everyMs > 0)) throw new RangeError('everyMs must be positive');
    let stopped = false;
    let count = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = () => {
      if (stopped) return;
      count++;
      this.policyTick();
      const run = this.connect({ initiator: 'client' });
      this.track(run);
      if (opts.maxSessions !== undefined && count >= opts.maxSessions) return;
      timer = setTimeout(tick, everyMs);
    };
    timer = setTimeout(tick, everyMs);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }

  /** The B&R policy's own trigger: queue a 'policy' backup request when the interval has passed. */
  policyTick(): boolean {
    if (this.tree.text(BR.PolicyEnabled) !== 'true') return false;
    const interval = Number(this.tree.text(BR.PolicyInterval) ?? '0');
    if (!(interval > 0)) return false;
    if (!this.networkAllowsBackup()) return false;
    const now = this.opts.now().getTime();
    const last = this.state.lastPolicyBackupAt ? Date.parse(this.state.lastPolicyBackupAt) : undefined;
    if (last !== undefined && now - last < interval * 60_000) return false;
    this.state.lastPolicyBackupAt = new Date(now).toISOString();
    this.state.pendingAlerts.push({
      id: `${now.toString(36)}-${++alertSeq}`,
      alert: { items: [backupRequestAlert({ reason: 'policy', categories: this.policyCategories() })] },
      createdAt: new Date(now).toISOString(),
    });
    return true;
  }

  /** The user asks for a backup: a backup.request alert (reason user) in a client-initiated session. */
  pressBackupButton(categories?: Category[]): Promise<SessionSummary> {
    this.state.pendingAlerts.push({
      id: `${Date.now().toString(36)}-${++alertSeq}`,
      alert: { items: [backupRequestAlert({ reason: 'user', categories: categories ?? this.policyCategories() })] },
      createdAt: this.opts.now().toISOString(),
    });
    return this.connect({ initiator: 'client' });
  }

  setNetwork(n: { bearer?: 'wifi' | 'cellular'; roaming?: boolean; operator?: string; online?: boolean }): void {
    if (n.bearer !== undefined) this.tree.set(PATHS.bearer, n.bearer);
    if (n.roaming !== undefined) this.tree.set(PATHS.roaming, String(n.roaming), { format: 'bool' });
    if (n.operator !== undefined) this.tree.set(PATHS.operator, n.operator);
    if (n.online !== undefined) this.online = n.online;
  }

  get network(): { bearer: string; roaming: boolean; operator: string; online: boolean } {
    return {
      bearer: this.tree.text(PATHS.bearer) ?? 'wifi',
      roaming: this.tree.text(PATHS.roaming) === 'true',
      operator: this.tree.text(PATHS.operator) ?? '',
      online: this.online,
    };
  }

  private networkAllowsBackup(): boolean {
    const net = this.network;
    if (this.tree.text(BR.PolicyWifiOnly) === 'true' && net.bearer !== 'wifi') return false;
    if (net.roaming && this.tree.text(BR.PolicyRoamingAllowed) !== 'true') return false;
    return true;
  }

  private policyCategories(): Category[] {
    const c = parseCategories(this.tree.text(BR.PolicyCategories));
    return c.length > 0 ? c : [...CATEGORIES];
  }

  /**
   * A week of ordinary use, `week` being which one: the user turns the brightness, picks
   * another ringtone, flips the theme. Deterministic per handset and week, so a demo's
   * history and a test's expectations stay the same from run to run.
   */
  everydayUse(week: number): void {
    const t = this.tree;
    const n = (this.state.identity.seed + week * 7919) >>> 0;
    t.set(`${PATHS.settings}/Display/Brightness`, String(20 + (n % 81)));
    t.set(`${PATHS.settings}/Sound/Ringtone`, RINGTONE_NAMES[n % 3]!);
    if (week % 2 === 1) t.set(`${PATHS.settings}/Display/Theme`, ['light', 'dark', 'auto'][n % 3]!);
    // And the phonebook moves on: a contact gets a new number, a new one is met.
    const contacts = this.ds.stores.contacts.items;
    const first = Object.keys(contacts).sort()[week % Math.max(1, Object.keys(contacts).length)];
    if (first) userPut(this.ds, 'contacts', contacts[first]!.text.replace(/^TEL([;:][^\r\n]*?):[^\r\n]*$/m, `TEL$1:+4477009${String(n % 100_000).padStart(5, '0')}`), first);
    userPut(this.ds, 'contacts', `BEGIN:VCARD\r\nVERSION:${this.ds.formats.contacts.version}\r\nN:Week ${week};Contact;;;\r\nFN:Contact of week ${week}\r\nTEL:+4477009${String((n >>> 3) % 100_000).padStart(5, '0')}\r\nEND:VCARD\r\n`);
    this.persist();
  }

  /**
   * Simulates the damage the B&R use cases are about: lost settings, a lost certificate,
   * deleted media, a corrupted or missing application (the antivirus among them), a
   * corrupted firmware, or a factory reset (all user data gone).
   */
  damage(kind: 'settings' | 'certificates' | 'appdata' | 'applications' | 'antivirus' | 'firmware' | 'factory-reset'): void {
    const t = this.tree;
    const clear = (path: string) => { for (const c of t.children(path)) t.remove(`${path}/${c}`); };
    switch (kind) {
      case 'settings':
        for (const p of ['Network/APN', 'Email']) clear(`${PATHS.settings}/${p}`);
        t.set(`${PATHS.settings}/Display/Brightness`, '50');
        t.set(`${PATHS.settings}/Sound/Ringtone`, 'Default');
        break;
      case 'certificates': clear(PATHS.certificates); break;
      case 'appdata': for (const d of [PATHS.ringtones, PATHS.wallpapers, PATHS.screensavers]) clear(d); break;
      case 'applications':
        for (const x of t.children('./SCOMO/Inventory/Deployed')) {
          if (!/shieldav/i.test(x)) t.remove(`./SCOMO/Inventory/Deployed/${x}`);
        }
        break;
      case 'antivirus':
        for (const x of t.children('./SCOMO/Inventory/Deployed')) {
          if (/shieldav/i.test(x)) t.remove(`./SCOMO/Inventory/Deployed/${x}`);
        }
        break;
      case 'firmware':
        t.set(DEVDETAIL.FwV, `${t.text(DEVDETAIL.FwV) ?? ''}-corrupt`);
        break;
      case 'factory-reset':
        for (const k of ['settings', 'certificates', 'appdata', 'applications'] as const) this.damage(k);
        this.damage('antivirus');
        break;
    }
    this.persist();
  }

  // =====================================================================================
  // ClientHandler: the tree

  async get(item: Item): Promise<CommandOutcome> {
    const uri = item.target?.locURI ?? '';
    const r = this.tree.get(uri);
    if (r.status !== 200 || !r.entries) return { status: r.status };
    const single = !uri.includes('?');
    const results = r.entries.map((e): Item => {
      const out: Item = {
        source: { locURI: single ? uri.trim() : e.path },
        meta: { format: e.format, ...(e.type !== undefined ? { type: e.type } : {}) },
      };
      if (e.value !== undefined) out.data = e.format === 'node' ? utf8Decode(e.value, false) : e.value;
      return out;
    });
    return { status: 200, results };
  }

  private valueOf(item: Item): Uint8Array | number {
    try {
      return itemValue(item);
    } catch (e) {
      if (e instanceof DecodeError) return 400;
      throw e;
    }
  }

  async add(item: Item): Promise<CommandOutcome> {
    const uri = item.target?.locURI ?? '';
    const format = item.meta?.format?.trim() || 'chr';
    if (format !== 'node' && this.ignoreWrites?.(canonicalPath(uri) ?? uri)) return { status: 200 };
    const value = format === 'node' ? new Uint8Array(0) : this.valueOf(item);
    if (typeof value === 'number') return { status: value };
    const type = item.meta?.type;
    const status = this.tree.add(uri, { format, value, ...(type !== undefined ? { type } : {}) });
    if (status === 200) this.afterAdd(canonicalPath(uri));
    return { status };
  }

  /** SCOMO: a Download/<x> the server creates gets its operation nodes, as the device would. */
  private afterAdd(path: string | undefined): void {
    const m = path && /^\.\/SCOMO\/Download\/([^/]+)/.exec(path);
    if (!m) return;
    const x = m[1]!;
    const p = downloadPaths(x);
    if (this.tree.node(p.base)?.kind !== 'interior') return;
    if (!this.tree.has(`${p.base}/Operations`)) {
      this.tree.mkdir(`${p.base}/Operations`, { access: ['Get'] });
      for (const op of ['Download', 'DownloadInstall', 'DownloadInstallInactive'] as const) {
        this.tree.set(p.op(op), new Uint8Array(0), { format: 'null', access: ACCESS_EXEC });
      }
    }
    if (!this.tree.has(p.Status)) this.tree.set(p.Status, '10', { format: 'int', access: ['Get'] });
  }

  async replace(item: Item): Promise<CommandOutcome> {
    const uri = item.target?.locURI ?? '';
    const value = this.valueOf(item);
    if (typeof value === 'number') return { status: value };
    // Fault: a handset that says 200 and keeps the old value (only a read-back shows it).
    if (this.ignoreWrites?.(canonicalPath(uri) ?? uri)) return { status: this.tree.has(uri) ? 200 : 404 };
    const format = item.meta?.format?.trim();
    const type = item.meta?.type;
    return { status: this.tree.replace(uri, { value, ...(format ? { format } : {}), ...(type !== undefined ? { type } : {}) }) };
  }

  async delete(item: Item): Promise<CommandOutcome> {
    const uri = item.target?.locURI ?? '';
    const status = this.tree.delete(uri);
    const path = canonicalPath(uri);
    // Deleting ./Ext/Rewind/BR/Local/<id> deletes the backup itself.
    if (status === 200 && path?.startsWith(`${BR.Local}/`)) {
      const id = path.slice(BR.Local.length + 1).split('/')[0]!;
      if (!this.tree.has(`${BR.Local}/${id}`)) this.deleteLocal(id);
    }
    return { status };
  }

  async copy(item: Item): Promise<CommandOutcome> {
    const from = item.source?.locURI;
    const to = item.target?.locURI;
    if (!from || !to) return { status: 400 };
    return { status: this.tree.copy(from, to) };
  }

  beginAtomic(): void {
    this.atomic = { snap: this.tree.snapshot(), jobs: this.afterSession.length };
  }

  commitAtomic(): void {
    this.atomic = undefined;
  }

  rollbackAtomic(): void {
    if (!this.atomic) return;
    this.tree.restore(this.atomic.snap);
    // Operations an Exec inside the Atomic scheduled are undone with it.
    this.afterSession.length = this.atomic.jobs;
    this.atomic = undefined;
  }

  userAlert(req: UiAlertRequest): Promise<UiAlertResponse> {
    return this.user.answer(req);
  }

  // =====================================================================================
  // Exec: the managed objects' operations

  async exec(item: Item, correlator: string | undefined): Promise<CommandOutcome> {
    const uri = item.target?.locURI ?? '';
    const check = this.tree.checkExec(uri);
    if (check !== 200) return { status: check };
    const path = canonicalPath(uri)!;
    const fumo = fumoPaths(PATHS.fumoRoot);
    const fumoOp: Record<string, FumoOperation> = {
      [fumo.Download]: 'download', [fumo.Update]: 'update', [fumo.DownloadAndUpdate]: 'downloadandupdate',
    };
    const op = fumoOp[path];
    if (op) {
      this.defer(() => this.runFumo(op, path, correlator));
      return { status: 202 };
    }
    let m = /^\.\/SCOMO\/Download\/([^/]+)\/Operations\/(Download|DownloadInstall|DownloadInstallInactive)$/.exec(path);
    if (m) {
      const [, x, o] = m as unknown as [string, string, 'Download' | 'DownloadInstall' | 'DownloadInstallInactive'];
      this.defer(() => this.runScomoDownload(x, o, path, correlator));
      return { status: 202 };
    }
    m = /^\.\/SCOMO\/Inventory\/Deployed\/([^/]+)\/Operations\/(Activate|Deactivate|Remove)$/.exec(path);
    if (m) {
      const [, x, o] = m as unknown as [string, string, 'Activate' | 'Deactivate' | 'Remove'];
      this.defer(() => this.runScomoDeployed(x, o, path, correlator));
      return { status: 202 };
    }
    try {
      switch (path) {
        case BR.RequestBackup: {
          const p = parseRequestBackupParams(item.data);
          const categories = p.categories ?? this.policyCategories();
          this.defer(async () => {
            this.setLastResult('RequestBackup', 200, correlator);
            this.queueAlert({ ...(correlator !== undefined ? { correlator } : {}), items: [backupRequestAlert({ reason: 'server', categories })] });
          });
          return { status: 202 };
        }
        case BR.LocalBackup: {
          const p = parseLocalBackupParams(item.data);
          this.defer(() => this.runLocalBackup(p.target, p.categories, correlator));
          return { status: 202 };
        }
        case BR.LocalRestore: {
          const p = parseLocalRestoreParams(item.data);
          this.defer(() => this.runLocalRestore(p.id, p.categories, correlator));
          return { status: 202 };
        }
        case BR.DataSync: {
          const p = parseDataSyncParams(item.data);
          this.defer(() => this.runDataSync(p, correlator));
          return { status: 202 };
        }
        default:
          // An executable node with no behaviour behind it: nothing to do, and nothing failed.
          return { status: 200 };
      }
    } catch (e) {
      // Parameters that do not parse: refused at once rather than accepted and failed later.
      if (e instanceof DecodeError) return { status: 400 };
      throw e;
    }
  }

  private alertOf(correlator: string | undefined, item: GenericAlertItem): GenericAlert {
    return { ...(correlator !== undefined ? { correlator } : {}), items: [item] };
  }

  /** GETs a package: bytes, or a failure kind the caller maps to its MO's result codes. */
  private async download(url: string): Promise<{ ok: true; body: Uint8Array } | { ok: false; why: 'bad-url' | 'network' | 'too-large' | 'client' | 'server' }> {
    if (!url || !/^https?:\/\//i.test(url)) return { ok: false, why: 'bad-url' };
    if (!this.online) return { ok: false, why: 'network' };
    try {
      const r = await this.transport({
        method: 'GET', url, headers: {}, timeoutMs: this.opts.downloadTimeoutMs, maxReplyBytes: this.opts.maxDownloadBytes,
      });
      if (r.status >= 500) return { ok: false, why: 'server' };
      if (r.status !== 200) return { ok: false, why: 'client' };
      return { ok: true, body: r.body };
    } catch (e) {
      if (e instanceof TransportError) return { ok: false, why: e.code === 'too-large' ? 'too-large' : e.code === 'bad-url' ? 'bad-url' : 'network' };
      return { ok: false, why: 'network' };
    }
  }

  private async runFumo(op: FumoOperation, source: string, correlator: string | undefined): Promise<void> {
    const p = fumoPaths(PATHS.fumoRoot);
    const setState = (s: number) => this.tree.set(p.State, String(s), { format: 'int' });
    const finish = (code: number) => {
      this.persist();
      this.queueAlert(this.alertOf(correlator, {
        source, type: FUMO_ALERT[op], format: 'int', data: String(code), ...(code === 200 ? {} : { mark: 'critical' as const }),
      }));
    };
    const model = this.identity.model;
    let pkg: { version: string; name?: string } | undefined;
    if (op === 'download' || op === 'downloadandupdate') {
      const url = this.tree.text(op === 'download' ? p.DownloadPkgURL : p.DownloadAndUpdatePkgURL)?.trim() ?? '';
      setState(FumoState.DownloadProgressing);
      const got = await this.download(url);
      if (!got.ok) {
        setState(FumoState.DownloadFailed);
        finish({ 'bad-url': 411, network: 503, 'too-large': 501, client: 411, server: 412 }[got.why]);
        return;
      }
      const check = checkFirmwarePackage(got.body, url, model);
      if (!check.ok) {
        setState(FumoState.DownloadFailed);
        finish(check.code);
        return;
      }
      setState(FumoState.DownloadComplete);
      pkg = { version: check.version, ...(check.name ? { name: check.name } : {}) };
      if (op === 'download') {
        this.state.downloadedFirmware = { ...pkg, model };
        finish(200);
        return;
      }
    } else {
      pkg = this.state.downloadedFirmware;
      const data = this.tree.read(p.UpdatePkgData);
      if (!pkg && data && data.length > 0) {
        const check = checkFirmwarePackage(data, '', model);
        if (!check.ok) {
          setState(FumoState.UpdateFailedNoData);
          finish(check.code);
          return;
        }
        pkg = { version: check.version };
      }
      if (!pkg) {
        // Update with nothing downloaded: FUMO's "Firmware Update Failed".
        setState(FumoState.UpdateFailedNoData);
        finish(410);
        return;
      }
    }
    setState(FumoState.UpdateProgressing);
    this.tree.set(DEVDETAIL.FwV, pkg.version);
    const swV = getModel(model).swV[pkg.version];
    if (swV) this.tree.set(DEVDETAIL.SwV, swV);
    this.tree.set(p.PkgVersion, pkg.version);
    if (pkg.name) this.tree.set(p.PkgName, pkg.name);
    delete this.state.downloadedFirmware;
    setState(FumoState.UpdateSuccessfulNoData);
    finish(200);
  }

  private scomoAlert(source: string, correlator: string | undefined, code: number, id?: string): GenericAlert {
    const data = `<ResultCode>${code}</ResultCode>${id ? `<Identifier>${id.replace(/[<&>]/g, '_')}</Identifier>` : ''}`;
    return this.alertOf(correlator, {
      source, type: SCOMO_ALERT_OPERATION_COMPLETE, format: 'chr', data, ...(code === 1200 ? {} : { mark: 'critical' as const }),
    });
  }

  private async runScomoDownload(x: string, op: 'Download' | 'DownloadInstall' | 'DownloadInstallInactive', source: string, correlator: string | undefined): Promise<void> {
    const p = downloadPaths(x);
    const url = this.tree.text(p.PkgURL)?.trim() ?? '';
    const setStatus = (s: number) => { if (this.tree.has(p.base)) this.tree.set(p.Status, String(s), { format: 'int' }); };
    setStatus(30);
    const got = await this.download(url);
    if (!got.ok) {
      setStatus(20);
      this.queueAlert(this.scomoAlert(source, correlator, got.why === 'server' ? 1500 : got.why === 'too-large' ? 1404 : 1402));
      return;
    }
    const fallback = { ...(this.tree.text(p.PkgID) ? { id: this.tree.text(p.PkgID)! } : {}), ...(this.tree.text(p.Name) ? { name: this.tree.text(p.Name)! } : {}) };
    const check = checkAppPackage(got.body, url, fallback);
    if (!check.ok) {
      setStatus(20);
      this.queueAlert(this.scomoAlert(source, correlator, check.code));
      return;
    }
    if (op === 'Download') {
      setStatus(40);
      this.persist();
      this.queueAlert(this.scomoAlert(source, correlator, 1200, check.id));
      return;
    }
    putDeployed(this.tree, { id: check.id, name: check.name, version: check.version, active: op === 'DownloadInstall' });
    setStatus(70);
    this.persist();
    this.queueAlert(this.scomoAlert(source, correlator, 1200, check.id));
  }

  private async runScomoDeployed(x: string, op: 'Activate' | 'Deactivate' | 'Remove', source: string, correlator: string | undefined): Promise<void> {
    const p = deployedPaths(x);
    const id = this.tree.text(p.ID);
    if (!this.tree.has(p.base)) {
      this.queueAlert(this.scomoAlert(source, correlator, op === 'Remove' ? 1408 : op === 'Activate' ? 1409 : 1410, id));
      return;
    }
    if (op === 'Remove') this.tree.remove(p.base);
    else this.tree.set(p.State, String(op === 'Activate' ? ScomoState.Active : ScomoState.Inactive), { format: 'int' });
    this.persist();
    this.queueAlert(this.scomoAlert(source, correlator, 1200, id));
  }

  // -------------------------------------------------------------------------------------
  // B&R

  private setLastResult(op: BrOperation, result: number, correlator: string | undefined): void {
    const r = { op, result, time: this.opts.now().toISOString(), ...(correlator !== undefined ? { correlator } : {}) };
    this.tree.set(BR.LastResult, JSON.stringify(r), { format: 'chr', type: 'application/json', access: ['Get'] });
  }

  private loadLocal(id: string): LocalBackupRecord | undefined {
    return this.store ? this.store.loadLocalBackup(this.devId, id) : this.memLocal.get(id);
  }

  private deleteLocal(id: string): void {
    if (this.store) this.store.deleteLocalBackup(this.devId, id);
    else this.memLocal.delete(id);
  }

  private newLocalId(): string {
    const stamp = this.opts.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    let id = `LB${stamp}`;
    for (let i = 2; this.tree.has(`${BR.Local}/${id}`); i++) id = `LB${stamp}-${i}`;
    return id;
  }

  /** Local backups present on the handset. */
  localBackups(): LocalManifest[] {
    return this.tree.children(BR.Local).map((id) => this.loadLocal(id)?.manifest).filter((m): m is LocalManifest => m !== undefined);
  }

  private async runLocalBackup(target: 'device' | 'smartcard', categories: Category[], correlator: string | undefined): Promise<void> {
    const done = (result: number, manifest?: LocalManifest) => {
      this.setLastResult('LocalBackup', result, correlator);
      this.persist();
      this.queueAlert(this.alertOf(correlator, localBackupResultAlert(manifest ? { result, manifest } : { result })));
    };
    if (this.busyBr) return done(413);
    if (target === 'smartcard' && !this.state.smartcard) return done(403);
    this.busyBr = true;
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
        time: this.opts.now().toISOString(),
        categories,
        entries: leaves.length,
        size: leaves.reduce((a, l) => a + l.value.length, 0),
        rootHash: merkleRoot(leaves),
      };
      const rec: LocalBackupRecord = { manifest, roots };
      if (this.store) {
        try {
          this.store.saveLocalBackup(this.devId, rec);
        } catch {
          return done(402);
        }
      } else {
        this.memLocal.set(manifest.id, rec);
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
      this.busyBr = false;
    }
  }

  private async runLocalRestore(id: string, categories: Category[] | undefined, correlator: string | undefined): Promise<void> {
    const done = (result: number, entries?: number) => {
      this.setLastResult('LocalRestore', result, correlator);
      this.persist();
      this.queueAlert(this.alertOf(correlator, localRestoreResultAlert({ result, id, ...(entries !== undefined ? { entries } : {}) })));
    };
    if (this.busyBr) return done(413);
    const rec = this.tree.has(`${BR.Local}/${id}`) ? this.loadLocal(id) : undefined;
    if (!rec) return done(404);
    const leaves = rec.roots.flatMap((r) => (r.node ? leavesOf(r.path, r.node) : []));
    if (merkleRoot(leaves) !== rec.manifest.rootHash) return done(407);
    const want = (categories ?? rec.manifest.categories).filter((c) => rec.manifest.categories.includes(c) && RESTORABLE.has(c));
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

  /** The handset's contacts, calendar and DS accounts; generated from its seed on first use. */
  get ds(): HandsetDs {
    this.state.ds ??= generatedHandsetDs(this.identity.seed, this.identity.model);
    return this.state.ds;
  }

  /**
   * Exec DataSync: one DS session against `serverUrl` with the account given (a password,
   * kept as a DS account the server may name by passwordRef next time, or a passwordRef
   * to one already here), then the ds.result alert with per-store counts.
   */
  private async runDataSync(p: DataSyncParams, correlator: string | undefined): Promise<void> {
    const done = (result: number, stores: DsStoreResult[] = []) => {
      this.setLastResult('DataSync', result, correlator);
      this.persist();
      this.queueAlert(this.alertOf(correlator, dsResultAlert({ result, stores })));
    };
    const stores = p.stores.filter((s): s is DsStoreName => (DS_STORE_NAMES as readonly string[]).includes(s));
    if (stores.length === 0) return done(405);
    if (this.busyBr) return done(413);
    const ds = this.ds;
    let password = p.password;
    if (password === undefined) {
      const acc = ds.accounts[p.passwordRef ?? ''];
      if (!acc || acc.user !== p.user) return done(405);
      password = acc.password;
    } else {
      ds.accounts[dsAccountRef(p.user)] = { user: p.user, password, serverUrl: p.serverUrl };
    }
    if (!this.online) return done(411);
    this.busyBr = true;
    try {
      const id = this.identity;
      const out = await runDsSession({
        serverUrl: p.serverUrl, user: p.user, password, scheme: id.clientScheme === 'basic' ? 'basic' : 'md5',
        devId: id.devId, man: id.man, mod: id.mod, swV: this.tree.text(DEVDETAIL.SwV) ?? id.firmware,
        encoding: id.encoding, maxMsgSize: id.maxMsgSize, stores, syncType: p.syncType, transport: this.transport,
        timeoutMs: this.opts.messageTimeoutMs,
      }, ds);
      this.lastDsSession = out;
      if (out.ds) this.state.ds = out.ds;
      // Stores asked for that this handset does not have (tasks, notes): reported, not synced.
      const missing = p.stores.filter((s) => !stores.includes(s as DsStoreName)).map((s): DsStoreResult => ({ store: s, added: 0, replaced: 0, deleted: 0, failed: 0, status: 404 }));
      done(out.result, [
        ...out.stores.map((s): DsStoreResult => ({ store: s.store, added: s.added, replaced: s.replaced, deleted: s.deleted, failed: s.failed, status: s.status })),
        ...missing,
      ]);
    } finally {
      this.busyBr = false;
    }
  }
}

export function initialState(identity: HandsetIdentity): HandsetState {
  return {
    identity,
    nonces: { ...identity.initialNonces },
    pendingAlerts: [],
    nextSessionId: 1,
    smartcard: getModel(identity.model).smartcard,
  };
}

export type { PendingAlert };
