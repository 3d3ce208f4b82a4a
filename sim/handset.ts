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
 *
 * The class puts together parts with one job each: HandsetCore (state, tree, network,
 * where it is kept), WorkQueue (sessions one at a time, operations after them),
 * DmSessionDriver (the sessions), TreeCommands (the server's commands on the tree), and
 * the managed objects that add behaviour to it: Installer (FUMO, SCOMO) and
 * BackupRestoreMo.
 */
import type { Category, LocalManifest } from '../lib/omadm/mo/backup-restore';
import type { GenericAlert } from '../lib/omadm/mo/generic-alert';
import type { Item } from '../lib/omadm/message';
import { dmAccPaths } from '../lib/omadm/mo/dmacc';
import { notificationSessionId } from '../lib/omadm/notification';
import type { InProcessPush } from '../lib/omadm/push';
import type {
  ClientHandler,
  CommandOutcome,
  UiAlertRequest,
  UiAlertResponse,
} from '../lib/omadm/session/client-handler';
import type { ClientConfig } from '../lib/omadm/session/client';
import { BackupRestoreMo } from './backup-restore-mo';
import { getModel } from './catalog';
import { TreeCommands } from './dm-commands';
import { DmSessionDriver, type ConnectOptions, type SessionSummary } from './dm-session';
import type { DsSessionOutcome } from './ds-client';
import type { HandsetDs } from './ds-store';
import { damage, everydayUse, type DamageKind } from './everyday';
import { generateHandset, type GenerateOptions, type HandsetIdentity } from './generate';
import { HandsetCore, pendingAlert, type HandsetLimits } from './handset-core';
import { Installer } from './installer';
import { readNetwork, writeNetwork, type NetworkChange, type NetworkState } from './network';
import { userAllowsSession } from './prompts';
import type { HandsetState, HandsetStore, PendingAlert } from './store';
import { httpTransport, type Transport } from './transport';
import { ACCESS_SECRET, type DmTree } from './tree';
import { VirtualUser } from './user';

export type { ConnectOptions, SessionErrorKind, SessionSummary } from './dm-session';

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

const DEFAULTS = {
  messageTimeoutMs: 30_000,
  sessionTimeoutMs: 5 * 60_000,
  downloadTimeoutMs: 60_000,
  maxDownloadBytes: 64 * 1024 * 1024,
  maxReplyBytes: 4 * 1024 * 1024,
};

function limitsOf(opts: HandsetOptions): HandsetLimits {
  return {
    messageTimeoutMs: opts.messageTimeoutMs ?? DEFAULTS.messageTimeoutMs,
    sessionTimeoutMs: opts.sessionTimeoutMs ?? DEFAULTS.sessionTimeoutMs,
    downloadTimeoutMs: opts.downloadTimeoutMs ?? DEFAULTS.downloadTimeoutMs,
    maxDownloadBytes: opts.maxDownloadBytes ?? DEFAULTS.maxDownloadBytes,
    maxReplyBytes: opts.maxReplyBytes ?? DEFAULTS.maxReplyBytes,
    now: opts.now ?? (() => new Date()),
  };
}

export class VirtualHandset implements ClientHandler {
  readonly tree: DmTree;
  readonly user: VirtualUser;
  readonly store: HandsetStore | undefined;
  report: 'immediate' | 'next-session';
  /** Most recent sessions, oldest first. */
  readonly sessions: SessionSummary[];
  /** Package #0s that failed verification or parsing (dropped silently, as a real handset does). */
  rejectedNotifications = 0;

  private readonly core: HandsetCore;
  private readonly driver: DmSessionDriver;
  private readonly commands: TreeCommands;
  private readonly br: BackupRestoreMo;

  constructor(state: HandsetState, tree: DmTree, opts: HandsetOptions = {}) {
    this.tree = tree;
    this.user = opts.user ?? new VirtualUser('accept');
    this.store = opts.store;
    this.report = opts.report ?? 'immediate';
    this.core = new HandsetCore(state, tree, opts.transport ?? httpTransport, opts.store, limitsOf(opts));
    const queueAlert = (alert: GenericAlert) => this.queueAlert(alert);
    this.br = new BackupRestoreMo(this.core, queueAlert);
    this.commands = new TreeCommands(tree, this.core.work, [new Installer(this.core, queueAlert), this.br]);
    this.driver = new DmSessionDriver(this.core, this);
    this.sessions = this.driver.sessions;
  }

  /** A new handset from a seed (not saved until `save()` or its first session). */
  static create(
    seed: number | string,
    model: string,
    gen: GenerateOptions = {},
    opts: HandsetOptions = {},
  ): VirtualHandset {
    const { identity, tree } = generateHandset(seed, model, gen);
    return new VirtualHandset(initialState(identity), tree, opts);
  }

  static load(store: HandsetStore, devId: string, opts: Omit<HandsetOptions, 'store'> = {}): VirtualHandset {
    const { state, tree } = store.load(devId);
    return new VirtualHandset(state, tree, { ...opts, store });
  }

  get state(): HandsetState {
    return this.core.state;
  }

  set state(s: HandsetState) {
    this.core.state = s;
  }

  get transport(): Transport {
    return this.core.transport;
  }

  set transport(t: Transport) {
    this.core.transport = t;
  }

  get online(): boolean {
    return this.core.online;
  }

  set online(v: boolean) {
    this.core.online = v;
  }

  /** Fault injection: writes to these paths are answered 200 and not stored. */
  get ignoreWrites(): ((path: string) => boolean) | undefined {
    return this.commands.ignoreWrites;
  }

  set ignoreWrites(fn: ((path: string) => boolean) | undefined) {
    this.commands.ignoreWrites = fn;
  }

  /** Whether a DM session is running; a test stands in for one by setting it. */
  private get inSession(): boolean {
    return this.core.work.inSession;
  }

  private set inSession(v: boolean) {
    this.core.work.inSession = v;
  }

  /** The last DS session Exec DataSync ran (for tests and the CLI). */
  get lastDsSession(): DsSessionOutcome | undefined {
    return this.br.lastDsSession;
  }

  get identity(): HandsetIdentity {
    return this.core.identity;
  }

  get devId(): string {
    return this.core.devId;
  }

  /** The handset's contacts, calendar and DS accounts; generated from its seed on first use. */
  get ds(): HandsetDs {
    return this.core.ds;
  }

  save(): void {
    this.core.save();
  }

  /** Called with every session's summary (fleets collect statistics this way). */
  onSession(fn: (s: SessionSummary) => void): () => void {
    return this.driver.onSession(fn);
  }

  // =====================================================================================
  // Sessions

  /** The account the handset uses, read from its DMAcc (so a server's credential rotation takes effect). */
  clientConfig(url?: string): ClientConfig {
    return this.driver.clientConfig(url);
  }

  /**
   * Runs one complete DM session over HTTP. Sessions of one handset never overlap: a
   * call while one runs waits for it. Never rejects; failures are in the summary.
   */
  connect(opts: ConnectOptions = {}): Promise<SessionSummary> {
    return this.driver.connect(opts);
  }

  /** Resolves once no session, operation or follow-up session is running or queued. */
  idle(): Promise<void> {
    return this.core.work.idle();
  }

  /** Queues a Generic Alert and, in 'immediate' mode, opens a session to deliver it. */
  private queueAlert(alert: GenericAlert): void {
    this.state.pendingAlerts.push(pendingAlert(alert, Date.now(), this.core.limits.now().toISOString()));
    this.core.persist();
    if (this.report === 'immediate') this.core.work.track(this.connect({ initiator: 'client', onlyIfPending: true }));
  }

  // =====================================================================================
  // Package #0, schedule, user actions, network

  /** Listens for Package #0 at inproc:<devId>. Returns the unregister function. */
  listen(push: InProcessPush): () => void {
    return push.register(`inproc:${this.devId}`, (pkg) => {
      this.core.work.track(this.onNotification(pkg));
    });
  }

  /**
   * Handles a Package #0: a bad digest or a package for another server is dropped without
   * a word (a real handset gives an attacker nothing to probe); ui-mode 2 shows a notice,
   * 3 asks the user first; then a server-initiated session with the notification's id.
   */
  async onNotification(pkg: Uint8Array): Promise<SessionSummary | undefined> {
    const n = this.driver.verifiedNotification(pkg);
    if (!n) {
      this.rejectedNotifications++;
      return undefined;
    }
    if (!(await userAllowsSession(this.user, n.uiMode))) return undefined;
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
      this.core.work.track(run);
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
    return this.br.policyTick();
  }

  /** The user asks for a backup: a backup.request alert (reason user) in a client-initiated session. */
  pressBackupButton(categories?: Category[]): Promise<SessionSummary> {
    this.state.pendingAlerts.push(this.br.userBackupRequest(categories));
    return this.connect({ initiator: 'client' });
  }

  /** Local backups present on the handset. */
  localBackups(): LocalManifest[] {
    return this.br.localBackups();
  }

  setNetwork(n: NetworkChange): void {
    writeNetwork(this.tree, n);
    if (n.online !== undefined) this.online = n.online;
  }

  /**
   * Changes the password the handset authenticates with (its DMAcc CLCRED AAuthSecret), as a
   * user who reset or re-typed the account on the handset would: with another password than
   * its account's, every session fails authentication.
   */
  setClientPassword(password: string): void {
    this.tree.set(dmAccPaths(this.state.identity.account).auth('CLCRED').AAuthSecret, password, {
      access: ACCESS_SECRET,
    });
    this.core.persist();
  }

  get network(): NetworkState {
    return readNetwork(this.tree, this.online);
  }

  /**
   * A week of ordinary use, `week` being which one: the user turns the brightness, picks
   * another ringtone, flips the theme. Deterministic per handset and week, so a demo's
   * history and a test's expectations stay the same from run to run.
   */
  everydayUse(week: number): void {
    everydayUse(this.tree, this.ds, this.state.identity.seed, week);
    this.core.persist();
  }

  /**
   * Simulates the damage the B&R use cases are about: lost settings, a lost certificate,
   * deleted media, a corrupted or missing application (the antivirus among them), a
   * corrupted firmware, or a factory reset (all user data gone).
   */
  damage(kind: DamageKind): void {
    damage(this.tree, kind);
    this.core.persist();
  }

  // =====================================================================================
  // ClientHandler: the server's commands, carried out on the tree

  get(item: Item): Promise<CommandOutcome> {
    return this.commands.get(item);
  }

  add(item: Item): Promise<CommandOutcome> {
    return this.commands.add(item);
  }

  replace(item: Item): Promise<CommandOutcome> {
    return this.commands.replace(item);
  }

  delete(item: Item): Promise<CommandOutcome> {
    return this.commands.delete(item);
  }

  copy(item: Item): Promise<CommandOutcome> {
    return this.commands.copy(item);
  }

  beginAtomic(): void {
    this.commands.beginAtomic();
  }

  commitAtomic(): void {
    this.commands.commitAtomic();
  }

  rollbackAtomic(): void {
    this.commands.rollbackAtomic();
  }

  exec(item: Item, correlator: string | undefined): Promise<CommandOutcome> {
    return this.commands.exec(item, correlator);
  }

  userAlert(req: UiAlertRequest): Promise<UiAlertResponse> {
    return this.user.answer(req);
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
