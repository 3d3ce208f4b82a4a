/**
 * The server side of a SyncML DM 1.2 session (OMA-TS-DM_Protocol-V1_2_1 §6-8,
 * OMA-TS-DM_Security-V1_2_1 §5) as pure functions over a JSON session state.
 *
 * The DM endpoint glue owns HTTP, the database and the device registry. Per request it:
 *   1. decodes the body, finds the device by SyncHdr Source (the DevId) and its DeviceAuth,
 *   2. loads the state (or newServerSession for a new SessionID),
 *   3. receive() — authenticates the message, executes it, returns events + nonce updates,
 *   4. enqueueWork() whatever the domain wants to do next,
 *   5. respond() — builds the answer (the caller encodes it; signResponse for HMAC),
 *   6. stores the state (JSON) and, when `done`, closes the session.
 * Nothing lives in memory between requests, so any process can take the next message.
 *
 * Session shape (§2.6.1 of the DM 1.2.1 spec examples):
 *   client Pkg1: Alert 1201 (or 1200 after a Package #0), DevInfo Replace, Cred, Final
 *   server Pkg2: SyncHdr Status 212 (+Chal NextNonce), statuses, management commands, Final
 *   client Pkg3: statuses and Results, Final
 *   server Pkg4: statuses (+ more commands, back to Pkg3) ... until the client's last
 *   message holds only statuses and we have nothing left: we answer its SyncHdr and stop.
 *
 * Multi-message packages: a client message without Final gets our statuses + Alert 1222
 * (next message) and no new commands; our own messages lack Final while the outbox holds
 * more, and the client answers with statuses (often + 1222) until we send Final.
 */
import { hmacHeader, makeChal, makeCred, newNonce, nonceBytes, schemeOfType, verifyCred, verifyHmac } from '../auth';
import type { AuthScheme, Secret } from '../auth';
import {
  AlertCode,
  StatusCode,
  type Alert,
  type Chal,
  type Command,
  type Encoding,
  type Item,
  type ItemData,
  type Results,
  type Status,
  type SyncHdr,
  type SyncMLMessage,
} from '../message';
import { base64Decode, base64Encode, utf8Decode } from '../util/bytes';
import { itemValue, valueData } from '../value';
import {
  endMessage,
  newLargeObjectState,
  noEndOfDataAlert,
  receiveChunk,
  type IncomingLargeObject,
  type LargeObjectState,
} from './large-object';
import {
  DEFAULT_MAX_MSG_SIZE,
  abandonLargeObject,
  clearCommands,
  enqueue,
  freeze,
  newOutbox,
  nextMessage,
  noteStatus,
  pendingTags,
  requeueRefused,
  thaw,
  type Json,
  type OutboxFailure,
  type OutboxState,
  type PendingCommand,
  type Refusable,
  type SentRecord,
} from './outbox';
import type {
  GenericAlertEventItem,
  SequenceStep,
  SessionEndReason,
  SessionEvent,
  UiOptions,
  WorkRequest,
} from './work';

export type { SessionEvent, WorkRequest } from './work';

export interface ServerConfig {
  /** Our name: SyncHdr Source LocURI of our messages (the DMAcc ServerID). */
  serverId: string;
  /** Where the client sends its next message (SyncHdr RespURI), when set. */
  respURI?: string;
  /** Announced to the client; it must keep its messages under it. */
  maxMsgSize: number;
  /** Largest Large Object we accept (and buffer in the state). */
  maxObjSize: number;
  /** Messages received per session before we abort it. Default 10,000. */
  maxMessages?: number;
  /** Failed client authentications per session before we give up. Default 3. */
  maxAuthAttempts?: number;
}

/** How one device authenticates. Resolved by the caller from SyncHdr Source before receive(). */
export interface DeviceAuth {
  /** How the client must authenticate to us. */
  clientScheme: AuthScheme;
  client: Secret;
  /** How we authenticate to the client. */
  serverScheme: AuthScheme;
  server: Secret;
  /** The NextNonce we last gave the client (base64): its next Cred/HMAC uses it. */
  clientNonce: string;
  /** The NextNonce the client last gave us: our Cred/HMAC uses it. */
  serverNonce: string;
}

export interface AuthUpdate {
  clientNonce?: string;
  serverNonce?: string;
  /**
   * The scheme the client asked us to authenticate with: the Type of the Chal with which it
   * refused our credentials, when that is not the scheme we used. A DM account holds a
   * scheme per direction, and the client checks us with its own: until we follow it, it
   * refuses every message. Whether to follow is the caller's policy: it sets
   * DeviceAuth.serverScheme for respond(), or ends the session with abortSession().
   */
  serverScheme?: AuthScheme;
}

/** A sent command awaiting the client's Status (and Results, for Get). */
interface Awaiting extends SentRecord {
  /** Status code received (Get 200 waits for its Results). */
  status?: number;
  /** Results seen for this Get. */
  results?: boolean;
  /** A Get of several items (GetWork.together): items answered so far, by a Results item or a Status of its own. */
  answered?: number;
}

/**
 * Everything about a session between two requests. Plain JSON: commands are stored frozen
 * (Uint8Array as { $b64 }); treat it as opaque outside this module.
 */
export interface ServerSessionState {
  v: 1;
  cfg: ServerConfig;
  devId: string;
  sessionId: string;
  encoding: Encoding;
  phase: 'active' | 'done';
  endReason?: SessionEndReason;
  /** Set when we must end the session with Alert 1223 in the next response. */
  abort?: SessionEndReason;
  started: boolean;
  authenticated: boolean;
  authFailures: number;
  /** The client accepted our credentials (212/200 on our SyncHdr). */
  serverAccepted: boolean;
  serverChallenges: number;
  /** The last received message was refused (authentication): answer its SyncHdr only. */
  rejected: boolean;
  /** MsgID of the last client message (statuses reference it). */
  clientMsgId: number;
  /** MsgID of our last message. */
  serverMsgId: number;
  nextCmdId: number;
  clientMaxMsgSize?: number;
  clientMaxObjSize?: number;
  clientFinal: boolean;
  clientOnlyStatuses: boolean;
  clientWantsMore: boolean;
  messages: number;
  /** Status for the client's SyncHdr, sent first in the next response. */
  hdrStatus?: Json;
  /** Statuses and protocol alerts for the next response (frozen Commands). */
  replies: Json[];
  outbox: OutboxState;
  lo: LargeObjectState;
  /** Sent commands awaiting an answer, keyed `${msgId}:${cmdId}`. */
  awaiting: Record<string, Awaiting>;
  /** Work ids with commands queued or unanswered. */
  openWork: string[];
  /** Events produced outside receive/respond (enqueueWork), delivered by the next call. */
  pendingEvents: SessionEvent[];
  /** While the client may still refuse our credentials: what our last message took from the queue. */
  refusable?: Refusable;
}

export interface ReceiveInput {
  message: SyncMLMessage;
  /** The exact bytes received (HMAC is computed over them). */
  rawBody: Uint8Array;
  /** The x-syncml-hmac request header. */
  hmacHeader?: string;
}

export interface ReceiveResult {
  state: ServerSessionState;
  events: SessionEvent[];
  /** Nonces the caller must store for the device before answering. */
  authUpdate?: AuthUpdate;
}

export interface RespondResult {
  state: ServerSessionState;
  /** The message to encode and send (the server always answers a client message). */
  message: SyncMLMessage | null;
  /** The session is over: store it as complete; the client will not send again. */
  done: boolean;
  /** Events produced while packing (e.g. a command too large for the client). */
  events: SessionEvent[];
}

const DEFAULT_MAX_MESSAGES = 10_000;
const DEFAULT_MAX_AUTH = 3;
/** A client MaxMsgSize below this is not workable (a SyncHdr alone takes a few hundred bytes). */
const MIN_PEER_MSG_SIZE = 1024;
const MAX_AWAITING = 100_000;

export function newServerSession(
  cfg: ServerConfig,
  opts: { devId: string; sessionId: string; encoding: Encoding },
): ServerSessionState {
  return {
    v: 1,
    cfg: { ...cfg },
    devId: opts.devId,
    sessionId: opts.sessionId,
    encoding: opts.encoding,
    phase: 'active',
    started: false,
    authenticated: false,
    authFailures: 0,
    serverAccepted: false,
    serverChallenges: 0,
    rejected: false,
    clientMsgId: 0,
    serverMsgId: 0,
    nextCmdId: 1,
    clientFinal: false,
    clientOnlyStatuses: false,
    clientWantsMore: false,
    messages: 0,
    replies: [],
    outbox: newOutbox(),
    lo: newLargeObjectState(),
    awaiting: {},
    openWork: [],
    pendingEvents: [],
  };
}

/**
 * Copy of the state that the step may mutate, sharing what it never changes in place. The
 * steps change the session object, its lists (replies, openWork, pendingEvents) and the
 * awaiting records; everything else (the outbox, whose functions return new objects, frozen
 * commands, the configuration, the incoming Large Object, refusable) is only ever replaced.
 * A deep copy of the whole tree, queued commands included, on every call was most of what
 * a small message cost.
 */
function clone(st: ServerSessionState): ServerSessionState {
  const awaiting: Record<string, Awaiting> = {};
  for (const k of Object.keys(st.awaiting)) awaiting[k] = { ...st.awaiting[k]! };
  return {
    ...st,
    replies: [...st.replies],
    awaiting,
    openWork: [...st.openWork],
    pendingEvents: [...st.pendingEvents],
  };
}

// ---------------------------------------------------------------------------------------
// Work -> commands

/** Queues domain work. Invalid work yields a 'status' 400 + 'work-done' event instead of throwing. */
export function enqueueWork(state: ServerSessionState, work: WorkRequest[]): ServerSessionState {
  const st = clone(state);
  const pending: PendingCommand[] = [];
  for (const w of work) {
    try {
      const cmds = workCommands(w, st.encoding);
      if (cmds.length === 0) throw new Error('nothing to do');
      for (const cmd of cmds) pending.push({ cmd, tag: w.id });
      if (!st.openWork.includes(w.id)) st.openWork.push(w.id);
    } catch (err) {
      st.pendingEvents.push({ type: 'protocol-error', detail: `work ${w.id}: ${(err as Error).message}` });
      st.pendingEvents.push({ type: 'status', workId: w.id, cmd: w.kind, status: StatusCode.CommandFailed });
      st.pendingEvents.push({ type: 'work-done', workId: w.id });
    }
  }
  st.outbox = enqueue(st.outbox, pending);
  return st;
}

/** Commands for one work request (one per path/item unless atomic), CmdIDs 0 until packed. */
function workCommands(w: WorkRequest | SequenceStep, encoding: Encoding): Command[] {
  switch (w.kind) {
    case 'get':
      if (w.together && w.paths.length > 1)
        return [{ kind: 'Get', cmdId: 0, items: w.paths.map((p) => ({ target: { locURI: checkPath(p) } })) }];
      return w.paths.map((p) => ({ kind: 'Get', cmdId: 0, items: [{ target: { locURI: checkPath(p) } }] }));
    case 'add':
    case 'replace': {
      const kind = w.kind === 'add' ? 'Add' : 'Replace';
      const cmds: Command[] = w.items.map((nv) => {
        const item: Item = { target: { locURI: checkPath(nv.path) } };
        const format = nv.format ?? 'chr';
        if (nv.value !== undefined) {
          const vd = valueData(base64Decode(nv.value), format, encoding);
          item.data = vd.data;
          item.meta = { format: vd.format };
        } else {
          item.meta = { format };
        }
        if (nv.type !== undefined) item.meta.type = nv.type;
        return { kind, cmdId: 0, items: [item] };
      });
      return 'atomic' in w && w.atomic ? [{ kind: 'Atomic', cmdId: 0, commands: cmds }] : cmds;
    }
    case 'delete': {
      const cmds: Command[] = w.paths.map((p) => ({
        kind: 'Delete',
        cmdId: 0,
        items: [{ target: { locURI: checkPath(p) } }],
      }));
      return 'atomic' in w && w.atomic ? [{ kind: 'Atomic', cmdId: 0, commands: cmds }] : cmds;
    }
    case 'copy':
      return [
        {
          kind: 'Copy',
          cmdId: 0,
          items: [{ target: { locURI: checkPath(w.path) }, source: { locURI: checkPath(w.from) } }],
        },
      ];
    case 'exec': {
      const item: Item = { target: { locURI: checkPath(w.path) } };
      if (w.data !== undefined) {
        item.data = w.data;
        item.meta = { format: w.format ?? 'chr', ...(w.type !== undefined ? { type: w.type } : {}) };
      }
      return [
        { kind: 'Exec', cmdId: 0, ...(w.correlator !== undefined ? { correlator: w.correlator } : {}), items: [item] },
      ];
    }
    case 'ui': {
      if (!['1100', '1101', '1102', '1103', '1104'].includes(w.code)) throw new Error(`not a UI alert code: ${w.code}`);
      // Options Item first, always (even empty): some clients crash on a single Item.
      const items: Item[] = [{ data: uiOptions(w.options) }, { data: w.text }];
      for (const c of w.choices ?? []) items.push({ data: c });
      return [{ kind: 'Alert', cmdId: 0, data: w.code, items }];
    }
    case 'sequence': {
      const commands = w.steps.flatMap((s) => {
        if ((s as { kind: string }).kind === 'sequence') throw new Error('nested sequence');
        return workCommands(s, encoding);
      });
      return [{ kind: 'Sequence', cmdId: 0, commands }];
    }
  }
}

function checkPath(p: unknown): string {
  if (typeof p !== 'string' || p === '' || p.length > 4096) throw new Error('bad path');
  return p;
}

function uiOptions(o: UiOptions | string | undefined): string {
  if (o === undefined) return '';
  if (typeof o === 'string') return o;
  return Object.entries(o)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
}

/**
 * Ends the session from our side: the next response carries Alert 1223 and Final, and the
 * session ends with `reason` (e.g. 'server-auth-refused' when the client asks us for a
 * scheme we will not use).
 */
export function abortSession(state: ServerSessionState, reason: SessionEndReason = 'server-abort'): ServerSessionState {
  const st = clone(state);
  if (st.phase === 'active') st.abort = reason;
  return st;
}

// ---------------------------------------------------------------------------------------
// receive

interface Ctx {
  st: ServerSessionState;
  events: SessionEvent[];
  authUpdate: AuthUpdate;
  hdr: SyncHdr;
  touched: Set<string>;
}

export function receive(state: ServerSessionState, input: ReceiveInput, auth: DeviceAuth, now: number): ReceiveResult {
  void now;
  const st = clone(state);
  const events: SessionEvent[] = st.pendingEvents.splice(0);
  const ctx: Ctx = { st, events, authUpdate: {}, hdr: input.message.hdr, touched: new Set() };
  try {
    receiveInner(ctx, input, auth);
  } catch (err) {
    // Defence in depth: nothing the client sends may take the endpoint down. The message
    // is answered with a SyncHdr 500 and the session continues.
    ctx.events.push({ type: 'protocol-error', detail: `internal: ${(err as Error).message}` });
    st.hdrStatus = freeze(statusFor(ctx.hdr, 'SyncHdr', 0, StatusCode.CommandFailed));
  }
  checkWorkDone(ctx);
  const result: ReceiveResult = { state: st, events: ctx.events };
  if (Object.keys(ctx.authUpdate).length > 0) result.authUpdate = ctx.authUpdate;
  return result;
}

function receiveInner(ctx: Ctx, input: ReceiveInput, auth: DeviceAuth): void {
  const { st, events } = ctx;
  const msg = input.message;
  const hdr = msg.hdr;
  st.messages++;
  st.rejected = false;
  st.replies = [];
  st.clientWantsMore = false;

  if (hdr.sessionId !== st.sessionId)
    events.push({ type: 'protocol-error', detail: `SessionID ${hdr.sessionId} in session ${st.sessionId}` });
  if (hdr.source.locURI !== st.devId)
    events.push({ type: 'protocol-error', detail: `Source ${hdr.source.locURI} in session of ${st.devId}` });
  if (st.messages > 1 && hdr.msgId <= st.clientMsgId)
    events.push({ type: 'protocol-error', detail: `MsgID ${hdr.msgId} after ${st.clientMsgId}` });
  st.clientMsgId = hdr.msgId;

  if (st.phase === 'done') {
    events.push({ type: 'protocol-error', detail: 'message after the end of the session' });
    st.hdrStatus = freeze(statusFor(hdr, 'SyncHdr', 0, StatusCode.Ok));
    return;
  }
  const maxMessages = st.cfg.maxMessages ?? DEFAULT_MAX_MESSAGES;
  if (st.messages > maxMessages) {
    st.abort = 'limit';
    st.hdrStatus = freeze(statusFor(hdr, 'SyncHdr', 0, StatusCode.Ok));
    return;
  }

  // Authentication of the client: until the session is authenticated for md5/basic; every
  // message for HMAC, whose MAC protects each body.
  if (!st.authenticated || auth.clientScheme === 'hmac') {
    const verdict = checkClient(input, auth);
    if (verdict !== 'ok') {
      st.authFailures++;
      st.rejected = true;
      const code = verdict === 'missing' ? StatusCode.MissingCredentials : StatusCode.Unauthorized;
      const nonce = newNonce();
      ctx.authUpdate.clientNonce = nonce;
      const s = statusFor(hdr, 'SyncHdr', 0, code);
      s.chal = makeChal(auth.clientScheme, nonce);
      st.hdrStatus = freeze(s);
      const max = st.cfg.maxAuthAttempts ?? DEFAULT_MAX_AUTH;
      const final = st.authFailures >= max;
      events.push({ type: 'auth-failed', status: code, attempts: st.authFailures, final });
      if (final) endSession(ctx, 'auth-failed');
      return;
    }
    // The attempt limit is for consecutive failures (HMAC is checked on every message).
    st.authFailures = 0;
    if (!st.authenticated) {
      st.authenticated = true;
      // 212: authenticated for the whole session. The Chal hands over the nonce for the
      // next session (and for HMAC, for the next message).
      const nonce = newNonce();
      ctx.authUpdate.clientNonce = nonce;
      const s = statusFor(hdr, 'SyncHdr', 0, StatusCode.AuthAccepted);
      s.chal = makeChal(auth.clientScheme, nonce);
      st.hdrStatus = freeze(s);
      events.push({ type: 'authenticated', scheme: auth.clientScheme });
    } else {
      // HMAC signs each message with the nonce we gave last: a new one with every answer,
      // so a captured message (of this session or an earlier one) cannot be replayed.
      const s = statusFor(hdr, 'SyncHdr', 0, StatusCode.Ok);
      if (auth.clientScheme === 'hmac') {
        const nonce = newNonce();
        ctx.authUpdate.clientNonce = nonce;
        s.chal = makeChal(auth.clientScheme, nonce);
      }
      st.hdrStatus = freeze(s);
    }
  } else {
    st.hdrStatus = freeze(statusFor(hdr, 'SyncHdr', 0, StatusCode.Ok));
  }

  if (hdr.meta?.maxMsgSize !== undefined && Number.isFinite(hdr.meta.maxMsgSize) && hdr.meta.maxMsgSize > 0) {
    st.clientMaxMsgSize = Math.max(MIN_PEER_MSG_SIZE, Math.floor(hdr.meta.maxMsgSize));
  }
  if (hdr.meta?.maxObjSize !== undefined && Number.isFinite(hdr.meta.maxObjSize) && hdr.meta.maxObjSize > 0) {
    st.clientMaxObjSize = Math.floor(hdr.meta.maxObjSize);
  }
  st.clientFinal = msg.body.final;
  st.clientOnlyStatuses = msg.body.commands.every((c) => c.kind === 'Status');

  const seen = new Set<number>();
  for (const cmd of msg.body.commands) {
    if (isDone(st)) break; // e.g. after Alert 1223
    if (cmd.kind !== 'Status') {
      if (seen.has(cmd.cmdId)) {
        events.push({ type: 'protocol-error', detail: `duplicate CmdID ${cmd.cmdId}` });
        // A second command under the same CmdID cannot be answered unambiguously: refuse it.
        reply(ctx, statusFor(hdr, cmd.kind, cmd.cmdId, 400));
        continue;
      }
      seen.add(cmd.cmdId);
    }
    handleCommand(ctx, cmd, auth);
  }

  const ended = endMessage(st.lo);
  st.lo = ended.lo;
  if (ended.abandoned) abandonIncoming(ctx, ended.abandoned);

  if (msg.body.final && st.phase === 'active') settleGets(ctx);
}

function checkClient(input: ReceiveInput, auth: DeviceAuth): 'ok' | 'missing' | 'wrong' {
  try {
    const nonce = nonceBytes(auth.clientNonce);
    if (auth.clientScheme === 'hmac') {
      if (input.hmacHeader === undefined || input.hmacHeader === '') return 'missing';
      return verifyHmac(input.hmacHeader, auth.client, nonce, input.rawBody) ? 'ok' : 'wrong';
    }
    const cred = input.message.hdr.cred;
    if (!cred) return 'missing';
    return verifyCred(cred, auth.clientScheme, auth.client, nonce) ? 'ok' : 'wrong';
  } catch {
    return 'wrong';
  }
}

function statusFor(hdr: SyncHdr, cmd: string, cmdRef: number, code: number): Status {
  const s: Status = { kind: 'Status', cmdId: 0, msgRef: hdr.msgId, cmdRef, cmd, data: String(code) };
  if (cmdRef === 0) {
    s.targetRef = [hdr.target.locURI];
    s.sourceRef = [hdr.source.locURI];
  }
  return s;
}

function reply(ctx: Ctx, cmd: Command): void {
  ctx.st.replies.push(freeze(cmd));
}

/** Status for a received command, unless it asked for none. */
function answer(ctx: Ctx, cmd: Command, code: number): void {
  if ('noResp' in cmd && cmd.noResp) return;
  // A new Status of strings and numbers only is its own frozen form: no copy through freeze.
  ctx.st.replies.push(statusFor(ctx.hdr, cmd.kind, cmd.cmdId, code) as unknown as Json);
}

function handleCommand(ctx: Ctx, cmd: Command, auth: DeviceAuth): void {
  switch (cmd.kind) {
    case 'Status':
      return handleStatus(ctx, cmd, auth);
    case 'Results':
      return handleResults(ctx, cmd);
    case 'Alert':
      return handleAlert(ctx, cmd);
    case 'Replace':
    case 'Add':
      return handleClientData(ctx, cmd);
    case 'Atomic':
    case 'Sequence':
    case 'Sync':
      // A DM server has no tree for the client to manage.
      answer(ctx, cmd, StatusCode.NotAllowed);
      for (const c of cmd.commands) notExecuted(ctx, c);
      return;
    default:
      answer(ctx, cmd, StatusCode.NotAllowed);
  }
}

function notExecuted(ctx: Ctx, cmd: Command): void {
  if (cmd.kind === 'Status' || cmd.kind === 'Results') return;
  answer(ctx, cmd, StatusCode.NotExecuted);
  if (cmd.kind === 'Atomic' || cmd.kind === 'Sequence' || cmd.kind === 'Sync')
    for (const c of cmd.commands) notExecuted(ctx, c);
}

// --- statuses from the client

function handleStatus(ctx: Ctx, s: Status, auth: DeviceAuth): void {
  const { st, events } = ctx;
  const code = Number.parseInt(s.data, 10);
  if (!Number.isFinite(code)) {
    events.push({ type: 'protocol-error', detail: `Status with data ${JSON.stringify(s.data).slice(0, 40)}` });
    return;
  }
  if (s.cmdRef === 0 || s.cmd === 'SyncHdr') return handleHdrStatus(ctx, s, code, auth);

  const lo = noteStatus(st.outbox, s.msgRef, s.cmdRef, code);
  if (lo.matched) {
    st.outbox = lo.ob;
    const key = `${s.msgRef}:${s.cmdRef}`;
    const rec = st.awaiting[key];
    delete st.awaiting[key];
    if (rec?.tag !== undefined) ctx.touched.add(rec.tag);
    if (lo.failed) reportFailure(ctx, lo.failed);
    return;
  }

  const key = `${s.msgRef}:${s.cmdRef}`;
  const rec = st.awaiting[key];
  if (!rec) {
    events.push({ type: 'protocol-error', detail: `Status for unknown command ${key} (${s.cmd})` });
    return;
  }
  if (rec.tag !== undefined) ctx.touched.add(rec.tag);
  if (rec.kind === 'Get') {
    const item = rec.paths.length > 1 ? s.targetRef?.[0] : undefined;
    if (code === StatusCode.Ok) {
      rec.status = code;
      if (rec.results && (rec.answered ?? 0) >= rec.paths.length) delete st.awaiting[key];
      return;
    }
    if (item !== undefined && rec.paths.includes(item)) {
      // One item of a Get of several failed (a Status of its own): its result; the others still come.
      rec.answered = (rec.answered ?? 0) + 1;
      if (rec.answered >= rec.paths.length) delete st.awaiting[key];
      if (rec.tag !== undefined)
        events.push({ type: 'result', workId: rec.tag, path: item, requested: item, status: code });
      return;
    }
    delete st.awaiting[key];
    // A Status for the whole command: every item had it.
    if (rec.tag !== undefined)
      for (const path of rec.paths.length ? rec.paths : [''])
        events.push({ type: 'result', workId: rec.tag, path, requested: path, status: code });
    return;
  }
  delete st.awaiting[key];
  if (rec.tag === undefined) return;
  if (rec.kind === 'Alert' && rec.alert !== undefined && /^110[0-4]$/.test(rec.alert)) {
    const values = (s.items ?? []).map((i) => dataText(i.data)).filter((v): v is string => v !== undefined);
    events.push({ type: 'ui', workId: rec.tag, code: rec.alert, status: code, ...(values.length ? { values } : {}) });
    return;
  }
  const path = s.targetRef?.[0] ?? rec.paths[0];
  events.push({
    type: 'status',
    workId: rec.tag,
    cmd: rec.kind,
    ...(path !== undefined ? { path } : {}),
    status: code,
  });
}

function handleHdrStatus(ctx: Ctx, s: Status, code: number, auth: DeviceAuth): void {
  const { st, events } = ctx;
  const nextNonce = s.chal?.meta.nextNonce;
  if (nextNonce !== undefined) ctx.authUpdate.serverNonce = nextNonce;
  if (code === StatusCode.AuthAccepted || code === StatusCode.Ok) {
    st.serverAccepted = true;
    return;
  }
  if (code === StatusCode.Unauthorized || code === StatusCode.MissingCredentials) {
    // The client refused our credentials; resend them (with its new nonce) next message,
    // and with them the commands it refused unexecuted and unanswered.
    st.serverAccepted = false;
    st.serverChallenges++;
    // Its Chal names the scheme it checks us with. Only a refusal's Type counts: a Chal on
    // an acceptance merely hands over the next nonce, and what worked stays.
    const type = s.chal?.meta.type;
    const wanted = schemeOfType(type);
    if (wanted !== undefined && wanted !== auth.serverScheme) ctx.authUpdate.serverScheme = wanted;
    else if (wanted === undefined && type !== undefined)
      events.push({ type: 'protocol-error', detail: `Chal of an unknown scheme ${JSON.stringify(type).slice(0, 60)}` });
    const r = st.refusable;
    if (r && s.msgRef === r.msgId) {
      for (const key of Object.keys(st.awaiting)) if (st.awaiting[key]!.msgId === r.msgId) delete st.awaiting[key];
      st.outbox = requeueRefused(st.outbox, r);
      delete st.refusable;
    }
    if (st.serverChallenges > (st.cfg.maxAuthAttempts ?? DEFAULT_MAX_AUTH)) {
      events.push({ type: 'protocol-error', detail: 'the client keeps refusing our credentials' });
      st.abort = 'auth-failed';
    }
    return;
  }
  events.push({ type: 'protocol-error', detail: `SyncHdr status ${code}` });
}

// --- results

function handleResults(ctx: Ctx, r: Results): void {
  const { st, events } = ctx;
  const rec = findGet(st, r);
  if (!rec)
    events.push({ type: 'protocol-error', detail: `Results for unknown command ${r.msgRef ?? '?'}:${r.cmdRef}` });
  let status: number = StatusCode.Ok;
  for (const raw of r.items) {
    const item: Item = r.meta ? { ...raw, meta: { ...r.meta, ...(raw.meta ?? {}) } } : raw;
    const res = receiveChunk(st.lo, 'Results', item, st.cfg.maxObjSize);
    st.lo = res.lo;
    if (res.abandoned) abandonIncoming(ctx, res.abandoned);
    switch (res.outcome.kind) {
      case 'single':
        emitResult(ctx, rec, item, StatusCode.Ok);
        break;
      case 'complete':
        emitResult(ctx, rec, res.outcome.item, StatusCode.Ok);
        break;
      case 'chunk':
        status = StatusCode.ChunkAccepted;
        continue;
      case 'error':
        status = res.outcome.status;
        emitResult(ctx, rec, item, res.outcome.status);
        break;
    }
    if (rec) rec.answered = (rec.answered ?? 0) + 1;
  }
  if (rec) {
    if (rec.tag !== undefined) ctx.touched.add(rec.tag);
    const key = `${rec.msgId}:${rec.cmdId}`;
    if (status !== StatusCode.ChunkAccepted) {
      rec.results = true;
      // A Get of several items may be answered by several Results: it is settled once each item was.
      if (rec.status !== undefined && (rec.paths.length <= 1 || (rec.answered ?? 0) >= rec.paths.length))
        delete st.awaiting[key];
    }
  }
  answer(ctx, r, status);
}

/** The Get a Results answers: by (MsgRef, CmdRef), or the latest Get with that CmdID when MsgRef is absent. */
function findGet(st: ServerSessionState, r: Results): Awaiting | undefined {
  if (r.msgRef !== undefined) {
    const rec = st.awaiting[`${r.msgRef}:${r.cmdRef}`];
    return rec?.kind === 'Get' ? rec : undefined;
  }
  let best: Awaiting | undefined;
  for (const rec of Object.values(st.awaiting)) {
    if (rec.kind === 'Get' && rec.cmdId === r.cmdRef && (!best || rec.msgId > best.msgId)) best = rec;
  }
  return best;
}

function emitResult(ctx: Ctx, rec: Awaiting | undefined, item: Item, status: number): void {
  if (!rec?.tag) return;
  const source = item.source?.locURI ?? item.target?.locURI;
  // In a Get of several items, the item this one answers (by its source).
  const requested =
    (source !== undefined && rec.paths.length > 1 && rec.paths.includes(source) ? source : rec.paths[0]) ?? '';
  const path = source ?? requested;
  const ev: Extract<SessionEvent, { type: 'result' }> = { type: 'result', workId: rec.tag, path, requested, status };
  if (item.meta?.format !== undefined) ev.format = item.meta.format;
  if (item.meta?.type !== undefined) ev.mimeType = item.meta.type;
  if (status === StatusCode.Ok) {
    try {
      ev.value = base64Encode(itemValue(item));
    } catch (err) {
      ev.status = 400;
      ctx.events.push({ type: 'protocol-error', detail: `undecodable value for ${path}: ${(err as Error).message}` });
    }
  }
  ctx.events.push(ev);
}

/** An incoming Large Object the client never finished: tell it (Alert 1225), fail its Get. */
function abandonIncoming(ctx: Ctx, obj: IncomingLargeObject): void {
  reply(ctx, noEndOfDataAlert(obj));
  ctx.events.push({ type: 'protocol-error', detail: `Large Object ${obj.uri} abandoned after ${obj.received} bytes` });
  if (obj.kind !== 'Results') return;
  for (const [key, rec] of Object.entries(ctx.st.awaiting)) {
    if (
      rec.kind === 'Get' &&
      rec.tag !== undefined &&
      !rec.results &&
      (rec.paths[0] === obj.uri || obj.uri.startsWith(`${rec.paths[0]}/`))
    ) {
      delete ctx.st.awaiting[key];
      ctx.touched.add(rec.tag);
      ctx.events.push({
        type: 'result',
        workId: rec.tag,
        path: obj.uri,
        requested: rec.paths[0] ?? '',
        status: StatusCode.IncompleteCommand,
      });
      return;
    }
  }
}

/**
 * At the client's Final every Get answered 200 must have had its Results: report those
 * that did not (status 200, no value) rather than wait forever.
 */
function settleGets(ctx: Ctx): void {
  const { st } = ctx;
  if (st.lo.current) return;
  for (const [key, rec] of Object.entries(st.awaiting)) {
    // A Get of several items some of which never had an answer (a client that reads one item
    // per Get): settled with what came, so its work ends.
    if (rec.kind === 'Get' && rec.status === StatusCode.Ok && rec.results && rec.paths.length > 1) {
      delete st.awaiting[key];
      if (rec.tag !== undefined) ctx.touched.add(rec.tag);
      ctx.events.push({ type: 'protocol-error', detail: `Get of ${rec.paths.length} items answered in part` });
      continue;
    }
    if (rec.kind === 'Get' && rec.status === StatusCode.Ok && !rec.results) {
      delete st.awaiting[key];
      if (rec.tag === undefined) continue;
      ctx.touched.add(rec.tag);
      const path = rec.paths[0] ?? '';
      ctx.events.push({ type: 'protocol-error', detail: `Get ${path} answered 200 without Results` });
      ctx.events.push({ type: 'result', workId: rec.tag, path, requested: path, status: StatusCode.Ok });
    }
  }
}

// --- alerts and data from the client

function handleAlert(ctx: Ctx, a: Alert): void {
  const { st, events } = ctx;
  const code = a.data.trim();
  switch (code) {
    case AlertCode.ClientInitiated:
    case AlertCode.ServerInitiated:
      if (!st.started) {
        st.started = true;
        events.push({
          type: 'session-start',
          initiator: code === AlertCode.ServerInitiated ? 'server' : 'client',
          alert: code,
        });
      }
      return answer(ctx, a, StatusCode.Ok);
    case AlertCode.Generic:
      events.push({
        type: 'generic-alert',
        ...(a.correlator !== undefined ? { correlator: a.correlator } : {}),
        items: a.items.map(alertItem),
      });
      return answer(ctx, a, StatusCode.Ok);
    case AlertCode.NextMessage:
      st.clientWantsMore = true;
      return answer(ctx, a, StatusCode.Ok);
    case AlertCode.SessionAbort:
      answer(ctx, a, StatusCode.Ok);
      endSession(ctx, 'client-abort');
      return;
    case AlertCode.NoEndOfData: {
      // The client gave up on a Large Object we were sending.
      answer(ctx, a, StatusCode.Ok);
      const r = abandonLargeObject(st.outbox, StatusCode.IncompleteCommand);
      st.outbox = r.ob;
      if (r.failed) {
        for (const [key, rec] of Object.entries(st.awaiting)) if (rec.chunk === 'more') delete st.awaiting[key];
        reportFailure(ctx, r.failed);
      }
      return;
    }
    case AlertCode.Display:
    case AlertCode.Confirm:
    case AlertCode.TextInput:
    case AlertCode.SingleChoice:
    case AlertCode.MultipleChoice:
      // UI alerts go from server to client only.
      return answer(ctx, a, StatusCode.NotAllowed);
    default:
      events.push({
        type: 'client-alert',
        code,
        ...(a.correlator !== undefined ? { correlator: a.correlator } : {}),
        items: a.items.map(alertItem),
      });
      return answer(ctx, a, StatusCode.Ok);
  }
}

function alertItem(i: Item): GenericAlertEventItem {
  const out: GenericAlertEventItem = {};
  if (i.source?.locURI !== undefined) out.source = i.source.locURI;
  if (i.target?.locURI !== undefined) out.target = i.target.locURI;
  if (i.meta?.type !== undefined) out.type = i.meta.type;
  if (i.meta?.format !== undefined) out.format = i.meta.format;
  if (i.meta?.mark !== undefined) out.mark = i.meta.mark;
  const d = i.data instanceof Uint8Array ? base64Encode(i.data) : dataText(i.data);
  if (d !== undefined) out.data = d;
  return out;
}

/** Replace/Add from the client: DevInfo in Package #1 (or later). Values reported as text. */
function handleClientData(ctx: Ctx, cmd: Extract<Command, { kind: 'Replace' | 'Add' }>): void {
  const values: Record<string, string> = {};
  let status: number = StatusCode.Ok;
  for (const raw of cmd.items) {
    const item: Item = cmd.meta ? { ...raw, meta: { ...cmd.meta, ...(raw.meta ?? {}) } } : raw;
    const res = receiveChunk(ctx.st.lo, cmd.kind, item, ctx.st.cfg.maxObjSize);
    ctx.st.lo = res.lo;
    if (res.abandoned) abandonIncoming(ctx, res.abandoned);
    let whole: Item | undefined;
    if (res.outcome.kind === 'single') whole = item;
    else if (res.outcome.kind === 'complete') whole = res.outcome.item;
    else if (res.outcome.kind === 'chunk') {
      status = StatusCode.ChunkAccepted;
      continue;
    } else {
      status = res.outcome.status;
      continue;
    }
    const uri = whole.source?.locURI ?? whole.target?.locURI;
    if (uri === undefined) continue;
    let text: string | undefined;
    try {
      text = utf8Decode(itemValue(whole), false);
    } catch {
      text = dataText(whole.data);
    }
    if (text !== undefined) values[uri] = text;
  }
  if (Object.keys(values).length) ctx.events.push({ type: 'devinfo', values });
  answer(ctx, cmd, status);
}

function dataText(d: ItemData | undefined): string | undefined {
  if (d === undefined) return undefined;
  if (typeof d === 'string') return d;
  if (d instanceof Uint8Array) return utf8Decode(d, false);
  return undefined;
}

// --- ending and work bookkeeping

function endSession(ctx: Ctx, reason: SessionEndReason): void {
  const { st } = ctx;
  if (st.phase === 'done') return;
  st.phase = 'done';
  st.endReason = reason;
  ctx.events.push(...unanswered(st));
  const cleared = clearCommands(st.outbox);
  st.outbox = { replies: cleared.ob.replies, queue: [] };
  st.lo = newLargeObjectState();
  for (const id of st.openWork) ctx.touched.add(id);
  ctx.events.push({ type: 'session-end', reason });
}

/**
 * Events for everything that will never be answered because the session ends: status 0
 * means "the handset did not answer" (distinct from any SyncML status).
 */
function unanswered(st: ServerSessionState): SessionEvent[] {
  const out: SessionEvent[] = [];
  for (const rec of Object.values(st.awaiting)) {
    if (rec.tag === undefined || rec.chunk === 'more') continue;
    const path = rec.paths[0];
    if (rec.kind === 'Get')
      out.push({ type: 'result', workId: rec.tag, path: path ?? '', requested: path ?? '', status: 0 });
    else if (rec.kind === 'Alert' && rec.alert && /^110[0-4]$/.test(rec.alert))
      out.push({ type: 'ui', workId: rec.tag, code: rec.alert, status: 0 });
    else
      out.push({ type: 'status', workId: rec.tag, cmd: rec.kind, ...(path !== undefined ? { path } : {}), status: 0 });
  }
  st.awaiting = {};
  for (const e of clearCommandsTags(st.outbox)) out.push(e);
  return out;
}

function clearCommandsTags(ob: OutboxState): SessionEvent[] {
  return [...new Set(pendingTags(ob))].map((workId) => ({ type: 'status' as const, workId, cmd: 'queued', status: 0 }));
}

function reportFailure(ctx: Ctx, f: OutboxFailure): void {
  if (f.tag === undefined) return;
  ctx.touched.add(f.tag);
  const path = f.paths[0];
  ctx.events.push({ type: 'protocol-error', detail: `${f.kind} ${path ?? ''}: ${f.reason}` });
  if (f.kind === 'Get')
    ctx.events.push({ type: 'result', workId: f.tag, path: path ?? '', requested: path ?? '', status: f.status });
  else
    ctx.events.push({
      type: 'status',
      workId: f.tag,
      cmd: f.kind,
      ...(path !== undefined ? { path } : {}),
      status: f.status,
    });
}

/** work-done for every touched work id with nothing queued and nothing unanswered. */
function checkWorkDone(ctx: Ctx): void {
  const { st } = ctx;
  if (ctx.touched.size === 0) return;
  const busy = new Set(pendingTags(st.outbox));
  for (const rec of Object.values(st.awaiting)) if (rec.tag !== undefined) busy.add(rec.tag);
  const still: string[] = [];
  for (const id of st.openWork) {
    if (ctx.touched.has(id) && !busy.has(id)) ctx.events.push({ type: 'work-done', workId: id });
    else still.push(id);
  }
  st.openWork = still;
}

// ---------------------------------------------------------------------------------------
// respond

export function respond(state: ServerSessionState, auth: DeviceAuth): RespondResult {
  const st = clone(state);
  const ctx: Ctx = {
    st,
    events: st.pendingEvents.splice(0),
    authUpdate: {},
    hdr: {
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionId: st.sessionId,
      msgId: st.clientMsgId,
      target: { locURI: st.cfg.serverId },
      source: { locURI: st.devId },
    },
    touched: new Set(),
  };
  st.serverMsgId++;
  const hdr = ourHeader(st, auth);
  const alloc = (): number => st.nextCmdId++;
  const hdrStatus = st.hdrStatus !== undefined ? [thaw<Command>(st.hdrStatus)] : [];
  const replies = [...hdrStatus, ...st.replies.map((j) => thaw<Command>(j))];
  st.hdrStatus = undefined;
  delete st.hdrStatus;
  st.replies = [];

  const finish = (commands: Command[], final: boolean, done: boolean): RespondResult => {
    checkWorkDone(ctx);
    return { state: st, message: { hdr, body: { commands, final } }, done, events: ctx.events };
  };
  const idsFor = (cmds: Command[]): Command[] => cmds.map((c) => ({ ...c, cmdId: alloc() }));

  // A refused message: only the SyncHdr status with its Chal; nothing else is executed or sent.
  if (st.rejected) {
    st.rejected = false;
    return finish(idsFor(hdrStatus), true, st.phase === 'done');
  }
  if (st.phase === 'done') {
    return finish(idsFor(replies), true, true);
  }
  if (st.abort) {
    const reason = st.abort;
    delete st.abort;
    endSession(ctx, reason);
    const abortAlert: Alert = { kind: 'Alert', cmdId: 0, data: AlertCode.SessionAbort, items: [] };
    return finish(idsFor([...replies, abortAlert]), true, true);
  }

  const limits = {
    maxMsgSize: st.clientMaxMsgSize ?? DEFAULT_MAX_MSG_SIZE,
    ...(st.clientMaxObjSize !== undefined ? { maxObjSize: st.clientMaxObjSize } : {}),
  };

  // The client's package is not complete: acknowledge and ask for the next message.
  if (!st.clientFinal && !st.clientWantsMore) {
    const next: Alert = { kind: 'Alert', cmdId: 0, data: AlertCode.NextMessage, items: [] };
    const packed = nextMessage(
      { replies: st.outbox.replies, queue: [] },
      hdr,
      [...replies, next],
      limits,
      st.encoding,
      alloc,
    );
    // Only replies went out; queued commands and any object in flight stay as they were.
    st.outbox = { ...st.outbox, replies: packed.ob.replies };
    recordSent(st, packed.sent);
    return finish(packed.commands, false, false);
  }

  const packed = nextMessage(st.outbox, hdr, replies, limits, st.encoding, alloc);
  st.outbox = packed.ob;
  recordSent(st, packed.sent);
  // Kept only while the client may still refuse us: before it accepts md5/basic, or always with HMAC.
  if (!st.serverAccepted || auth.serverScheme === 'hmac') st.refusable = packed.refusable;
  else delete st.refusable;
  for (const f of packed.failed) reportFailure(ctx, f);

  // Done when the client's last message closed its package (no Large Object of its own
  // still coming) and we send nothing that needs an answer: a client that receives a Final
  // message of statuses only ends the session without a word (§8.4), so this is our last
  // chance to know it ended.
  const done = st.clientFinal && st.lo.current === undefined && packed.drained && packed.sent.length === 0;
  if (done) {
    ctx.events.push(...unanswered(st));
    for (const id of st.openWork) ctx.touched.add(id);
    st.phase = 'done';
    st.endReason = 'complete';
    ctx.events.push({ type: 'session-end', reason: 'complete' });
  }
  return finish(packed.commands, packed.drained, done);
}

function recordSent(st: ServerSessionState, sent: SentRecord[]): void {
  // Counted once, not per record: a message of a few hundred Gets made this quadratic.
  let n = Object.keys(st.awaiting).length;
  for (const r of sent) {
    if (n >= MAX_AWAITING) break;
    const key = `${r.msgId}:${r.cmdId}`;
    if (!(key in st.awaiting)) n++;
    st.awaiting[key] = r;
  }
}

function ourHeader(st: ServerSessionState, auth: DeviceAuth): SyncHdr {
  const hdr: SyncHdr = {
    verDTD: '1.2',
    verProto: 'DM/1.2',
    sessionId: st.sessionId,
    msgId: st.serverMsgId,
    target: { locURI: st.devId },
    source: { locURI: st.cfg.serverId },
    meta: { maxMsgSize: st.cfg.maxMsgSize, maxObjSize: st.cfg.maxObjSize },
  };
  if (st.cfg.respURI) hdr.respURI = st.cfg.respURI;
  // Our credentials until the client accepts them (HMAC goes in the HTTP header instead).
  if (!st.serverAccepted && auth.serverScheme !== 'hmac') {
    const cred = makeCred(auth.serverScheme, auth.server, nonceBytes(auth.serverNonce));
    if (cred) hdr.cred = cred;
  }
  return hdr;
}

/** The x-syncml-hmac header for an encoded response, when we authenticate with HMAC. */
export function signResponse(auth: DeviceAuth, body: Uint8Array): string {
  return hmacHeader(auth.server, nonceBytes(auth.serverNonce), body);
}

/**
 * The answer to a message from a DevId we do not know: the same 401/407 + Chal a wrong
 * password gets, so probing cannot tell registered DevIds from others.
 */
export function rejectUnknownDevice(message: SyncMLMessage, nonce: string, scheme: AuthScheme = 'md5'): SyncMLMessage {
  const code = message.hdr.cred ? StatusCode.Unauthorized : StatusCode.MissingCredentials;
  return headerStatusAnswer(message, code, makeChal(scheme, nonce));
}

/**
 * A final message whose only command is the status of the SyncHdr it answers (a refusal
 * before any session state exists: an unknown DevId, a server too busy to start one).
 */
export function headerStatusAnswer(message: SyncMLMessage, code: number, chal?: Chal): SyncMLMessage {
  const h = message.hdr;
  const status: Status = {
    kind: 'Status',
    cmdId: 1,
    msgRef: h.msgId,
    cmdRef: 0,
    cmd: 'SyncHdr',
    targetRef: [h.target.locURI],
    sourceRef: [h.source.locURI],
    ...(chal ? { chal } : {}),
    data: String(code),
  };
  return {
    hdr: {
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionId: h.sessionId,
      msgId: 1,
      target: { locURI: h.source.locURI },
      source: { locURI: h.target.locURI },
    },
    body: { commands: [status], final: true },
  };
}

/** True once the session has ended (respond returned done, or it was aborted). */
export function isDone(state: ServerSessionState): boolean {
  return state.phase === 'done';
}
