/**
 * The client (handset) side of a SyncML DM 1.2 session (OMA-TS-DM_Protocol-V1_2_1 §8,
 * OMA-TS-DM_Security-V1_2_1 §5). Protocol only: the caller owns the transport (it POSTs
 * `Outgoing.body` to `Outgoing.url` and hands the reply back to `receive`) and the tree
 * and the user (the ClientHandler).
 *
 * One ClientSession is one handset's live session. It is a class, not a reducer like the
 * server engine, because a handset has one session at a time and nothing to persist
 * between messages except the nonces, which `nonces` exposes after every step.
 *
 *   const s = new ClientSession(cfg, { sessionId, initiator: 'server', nonces }, handler);
 *   let out = s.firstMessage();
 *   while (out) { const reply = await post(out); out = await s.receive(reply.body, reply.headers); }
 *   saveNonces(s.nonces);
 *
 * Nothing a server sends crashes the session: what can be answered is answered with
 * statuses (401/407, 406, 500, 1225...), and a message that cannot be acted on at all
 * (undecodable, foreign SessionID, replayed MsgID, credentials refused three times) ends
 * the session: `receive` rejects with a ClientSessionError whose `code` is stable.
 */
import {
  makeChal,
  makeCred,
  newNonce,
  nonceBytes,
  schemeOfType,
  verifyCred,
  verifyHmac,
  hmacHeader,
  derivedOf,
  type AuthScheme,
  type Secret,
} from '../auth';
import { decodeMessage, encodeMessage } from '../codec/index';
import type { DecodeLimits } from '../codec/element';
import { DecodeError } from '../errors';
import {
  AlertCode,
  MIME,
  StatusCode,
  encodingOf,
  type Alert,
  type Chal,
  type Command,
  type Encoding,
  type Item,
  type Meta,
  type Status,
  type SyncHdr,
  type SyncMLMessage,
} from '../message';
import { devInfoItems } from '../mo/devinfo';
import { buildGenericAlert, type GenericAlert } from '../mo/generic-alert';
import { valueData } from '../value';
import {
  endMessage,
  newLargeObjectState,
  noEndOfDataAlert,
  receiveChunk,
  resetLargeObjects,
  type LargeObjectState,
} from './large-object';
import {
  DEFAULT_MAX_MSG_SIZE,
  enqueue,
  enqueueReplies,
  hasPending,
  hasPendingCommands,
  newOutbox,
  nextMessage,
  noteStatus,
  type Limits,
  type OutboxFailure,
  type OutboxState,
  type PendingCommand,
} from './outbox';
import type { ClientHandler, CommandOutcome, UiAlertRequest, UiAlertResponse } from './client-handler';

export interface ClientConfig {
  /** ./DevInfo/DevId, also the SyncHdr Source. */
  devId: string;
  /** The server's ServerID (DMAcc); informational, the server's Source may differ. */
  serverId: string;
  /** Where Package #1 goes; later messages go to the server's RespURI when it gives one. */
  serverUri: string;
  encoding: Encoding;
  /** How we authenticate to the server; `client.user` is the account name (SyncHdr Source LocName). */
  clientScheme: AuthScheme;
  client: Secret;
  /** What we require from the server; `server.user` is the server's name (its ServerID). */
  serverScheme: AuthScheme;
  server: Secret;
  /** Our limits, announced in every SyncHdr Meta. */
  maxMsgSize: number;
  maxObjSize: number;
  devInfo: { man: string; mod: string; dmV: string; lang: string };
  /** Messages (each way counted once per round trip) before the session is abandoned. Default 10,000. */
  maxMessages?: number;
  /** Decoder limits for the server's messages. */
  decodeLimits?: Partial<DecodeLimits>;
  /**
   * Send a fresh NextNonce with the 212 that accepts the server, so the next session's
   * server credentials cannot be a replay of this one's. Default true.
   */
  rotateServerNonce?: boolean;
}

/** Persisted by the handset between sessions. */
export interface ClientNonces {
  /** The nonce our credentials are computed with (last NextNonce the server sent us). */
  clientNonce: string;
  /** The nonce the server's credentials must be computed with (last NextNonce we sent). */
  serverNonce: string;
}

export interface StartOptions {
  sessionId: string;
  /** 'server' after a Package #0 (Alert 1200), 'client' for a handset-initiated session (1201). */
  initiator: 'server' | 'client';
  /** Generic Alerts (1226) to report in Package #1, e.g. the outcome of an earlier Exec. */
  genericAlerts?: GenericAlert[];
  nonces: ClientNonces;
}

export interface Outgoing {
  body: Uint8Array;
  contentType: string;
  /** content-type, and x-syncml-hmac when we authenticate with HMAC. */
  headers: Record<string, string>;
  url: string;
  msgId: number;
  final: boolean;
}

export type ClientSessionErrorCode =
  | 'malformed-reply' // the server's message could not be decoded
  | 'unexpected-reply' // wrong SessionID, version, or a message that answers nothing we sent
  | 'auth-failed' // the server refused our credentials MAX_AUTH_ATTEMPTS times
  | 'server-auth-failed' // the server failed our challenge MAX_AUTH_ATTEMPTS times
  | 'too-many-messages' // maxMessages reached
  | 'bad-config' // our own credentials cannot be produced (e.g. basic without a password)
  | 'invalid-state'; // the caller used the session out of order (a bug in the caller)

export class ClientSessionError extends Error {
  readonly code: ClientSessionErrorCode;
  constructor(code: ClientSessionErrorCode, message: string) {
    super(message);
    this.name = 'ClientSessionError';
    this.code = code;
  }
}

/** For logs, tests and fault injection. Paths are as the server wrote them. */
export type ClientEvent =
  | { type: 'message-out'; msgId: number; bytes: number; final: boolean; commands: string[] }
  | { type: 'message-in'; msgId: number; bytes: number; final: boolean; commands: string[] }
  /** The server's verdict on our credentials (its status for our SyncHdr). */
  | { type: 'client-auth'; status: number; accepted: boolean; attempt: number; scheme: AuthScheme }
  /** Our verdict on the server's credentials. */
  | { type: 'server-auth'; result: 'ok' | 'missing' | 'wrong'; scheme: AuthScheme; status: number }
  | { type: 'nonce'; which: 'client' | 'server'; value: string }
  /** A server command we executed (one per item for item commands). */
  | { type: 'command'; kind: string; cmdId: number; path?: string; status: number }
  | { type: 'ui-alert'; code: string; cmdId: number; status: number; values?: string[] }
  /** The server's status for one of our commands. */
  | { type: 'status'; cmd: string; cmdRef: number; msgRef: number; status: number }
  | { type: 'lo-in'; path: string; received: number; size?: number; done: boolean }
  | { type: 'lo-out'; path: string; sent: number; size: number; done: boolean }
  /** Something of ours that could not be sent or was refused mid-way (e.g. 413, a refused chunk). */
  | { type: 'send-failed'; kind: string; path?: string; status: number; reason: string }
  | { type: 'end'; reason: 'complete' | 'aborted-by-server' | 'error'; error?: ClientSessionErrorCode };

/** How many times we send credentials (or accept bad ones from the server) before giving up. */
export const MAX_AUTH_ATTEMPTS = 3;
export const DEFAULT_MAX_MESSAGES = 10_000;

const UI_ALERTS: readonly string[] = ['1100', '1101', '1102', '1103', '1104'];

type State = 'new' | 'waiting' | 'complete' | 'aborted' | 'failed';

/** What we owe the server for its commands (Status, Results, a 1225), before CmdIDs are assigned. */
type Reply = Command;

/** What executing one server command produced. */
interface Executed {
  replies: Reply[];
  /** 2xx: for Atomic, which rolls back on anything else. */
  ok: boolean;
  /** A UI alert the user did not accept: the rest of a Sequence is not executed. */
  stop?: boolean;
}

function isOk(code: number): boolean {
  return code >= 200 && code < 300;
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === want) return v;
  return undefined;
}

/** Options of a UI alert, "MINDT=10&MAXDT=30&DR=1". Malformed pairs are skipped. */
export function parseUiOptions(s: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const part of s.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toUpperCase();
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      // Keep the raw text: a stray '%' in a server's option is not worth refusing the alert.
    }
    if (key !== '' && key !== '__PROTO__') out[key] = value;
  }
  return out;
}

/** The keys OMA-TS-DM_Protocol §10.2 defines for UI alert options. */
const OPTION_KEYS = new Set(['MINDT', 'MAXDT', 'DR', 'MAXLEN', 'IT', 'ET']);

function looksLikeOptions(s: string): boolean {
  const parts = s.split('&').filter((p) => p.trim() !== '');
  return (
    parts.length > 0 && parts.every((p) => OPTION_KEYS.has(p.split('=')[0]!.trim().toUpperCase()) && p.includes('='))
  );
}

function itemString(item: Item | undefined): string {
  const d = item?.data;
  if (typeof d === 'string') return d.trim();
  if (d instanceof Uint8Array) return new TextDecoder('utf-8').decode(d).trim();
  return '';
}

/**
 * Parses a UI alert's items: options, text, choices. A server that sends a single Item
 * (some do, against the spec) gets it read as the text unless it is plainly options.
 */
export function parseUiAlert(alert: Alert): UiAlertRequest {
  const code = alert.data.trim() as UiAlertRequest['code'];
  const items = alert.items;
  if (items.length === 1) {
    const only = itemString(items[0]);
    if (looksLikeOptions(only)) return { code, options: parseUiOptions(only), text: '', choices: [] };
    return { code, options: {}, text: only, choices: [] };
  }
  return {
    code,
    options: parseUiOptions(itemString(items[0])),
    text: itemString(items[1]),
    choices: items.slice(2).map(itemString),
  };
}

/** Command Meta applies to every Item that does not override it (SyncML RepPro §5.1.10). */
function withCommandMeta(item: Item, meta: Meta | undefined): Item {
  if (!meta || (meta.format === undefined && meta.type === undefined && meta.size === undefined)) return item;
  const merged: Meta = {};
  if (meta.format !== undefined) merged.format = meta.format;
  if (meta.type !== undefined) merged.type = meta.type;
  if (meta.size !== undefined) merged.size = meta.size;
  return { ...item, meta: { ...merged, ...(item.meta ?? {}) } };
}

function dataSize(d: Item['data']): number {
  if (typeof d === 'string') return new TextEncoder().encode(d).length;
  if (d instanceof Uint8Array) return d.length;
  return 0;
}

/** The commands a message carries, for events: "Alert:1201", "Replace", "Status:212"... */
function describe(cmds: readonly Command[]): string[] {
  return cmds.map((c) => {
    if (c.kind === 'Alert') return `Alert:${c.data}`;
    if (c.kind === 'Status') return `Status:${c.data}`;
    return c.kind;
  });
}

function isSessionAbort(c: Command): boolean {
  return c.kind === 'Alert' && c.data.trim() === AlertCode.SessionAbort;
}

/** Status and Results answer the server; everything else is a request of ours. */
function isReply(cmd: Command): boolean {
  return cmd.kind === 'Status' || cmd.kind === 'Results';
}

export class ClientSession {
  private readonly cfg: ClientConfig;
  private readonly opts: StartOptions;
  private readonly handler: ClientHandler;
  private readonly maxMessages: number;

  private state: State = 'new';
  private clientNonce: string;
  private serverNonce: string;
  private clientScheme: AuthScheme;

  /** Our last MsgID (0 before the first message). */
  private msgId = 0;
  /** Highest MsgID the server used; its messages must go up. */
  private serverMsgId = 0;
  /** Where our next message goes: the server's RespURI once it names one. */
  private url: string;
  private peerMaxMsgSize = DEFAULT_MAX_MSG_SIZE;
  private peerMaxObjSize: number | undefined;

  /** The server answered 212: no more Cred needed (HMAC still signs every message). */
  private clientAuthed = false;
  private authRejections = 0;
  private serverAuthed = false;
  private serverAuthFailures = 0;

  private ob: OutboxState = newOutbox();
  private lo: LargeObjectState = newLargeObjectState();
  /** What the previous message carried, to resend it if the server refuses our credentials. */
  private lastSent: { msgId: number; commands: Command[]; final: boolean } | undefined;

  readonly events: ClientEvent[] = [];

  constructor(cfg: ClientConfig, opts: StartOptions, handler: ClientHandler) {
    this.cfg = cfg;
    this.opts = opts;
    this.handler = handler;
    this.maxMessages = cfg.maxMessages ?? DEFAULT_MAX_MESSAGES;
    this.clientNonce = opts.nonces.clientNonce;
    this.serverNonce = opts.nonces.serverNonce;
    this.clientScheme = cfg.clientScheme;
    this.url = cfg.serverUri;
  }

  /** The nonces to persist: read after every step, they change with each Chal. */
  get nonces(): ClientNonces {
    return { clientNonce: this.clientNonce, serverNonce: this.serverNonce };
  }

  /** 'complete' and 'aborted' are normal ends; 'failed' follows a ClientSessionError. */
  get status(): State {
    return this.state;
  }

  /** True once the server accepted our credentials for the session (212). */
  get authenticated(): boolean {
    return this.clientAuthed;
  }

  /**
   * Queues a Generic Alert (1226) for the next message, e.g. an Exec that finished while
   * the session is still open. Alerts known before the session go in StartOptions.
   */
  queueGenericAlert(alert: GenericAlert): void {
    if (this.state !== 'new' && this.state !== 'waiting')
      throw new ClientSessionError('invalid-state', `session is ${this.state}`);
    this.ob = enqueue(this.ob, [{ cmd: buildGenericAlert(0, alert.items, alert.correlator), tag: 'generic-alert' }]);
  }

  /** Package #1: Alert 1200/1201, DevInfo, queued Generic Alerts. */
  firstMessage(): Outgoing {
    if (this.state !== 'new') throw new ClientSessionError('invalid-state', 'firstMessage() called twice');
    const { devId, devInfo } = this.cfg;
    const code = this.opts.initiator === 'server' ? AlertCode.ServerInitiated : AlertCode.ClientInitiated;
    const first: PendingCommand[] = [
      { cmd: { kind: 'Alert', cmdId: 0, data: code, items: [] } },
      { cmd: { kind: 'Replace', cmdId: 0, items: devInfoItems({ devId, ...devInfo }) } },
      ...(this.opts.genericAlerts ?? []).map((g) => ({
        cmd: buildGenericAlert(0, g.items, g.correlator),
        tag: 'generic-alert',
      })),
    ];
    // Package #1 goes before anything queued with queueGenericAlert before the start.
    const queued = this.ob;
    this.ob = enqueue(newOutbox(), first);
    this.ob = { ...this.ob, queue: [...this.ob.queue, ...queued.queue] };
    this.state = 'waiting';
    try {
      return this.pack([], true);
    } catch (e) {
      if (e instanceof ClientSessionError) this.fail(e.code);
      throw e;
    }
  }

  /**
   * Consumes the server's reply to our last message. Resolves to the next message to send,
   * or null when the session is over (see `status`). Rejects with ClientSessionError when
   * the session cannot go on; the session is then 'failed'.
   */
  async receive(reply: Uint8Array, replyHeaders: Record<string, string> = {}): Promise<Outgoing | null> {
    if (this.state !== 'waiting') throw new ClientSessionError('invalid-state', `receive() while ${this.state}`);
    try {
      return await this.step(reply, replyHeaders);
    } catch (e) {
      if (e instanceof ClientSessionError) {
        if (this.state === 'waiting') this.fail(e.code);
        throw e;
      }
      // A bug in a handler or here: still end the session cleanly, with a typed error.
      this.fail('unexpected-reply');
      throw new ClientSessionError('unexpected-reply', `session failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private fail(code: ClientSessionErrorCode): void {
    this.state = 'failed';
    this.events.push({ type: 'end', reason: 'error', error: code });
  }

  private end(reason: 'complete' | 'aborted-by-server'): null {
    this.state = reason === 'complete' ? 'complete' : 'aborted';
    this.events.push({ type: 'end', reason });
    return null;
  }

  private async step(reply: Uint8Array, replyHeaders: Record<string, string>): Promise<Outgoing | null> {
    if (reply.length === 0) {
      // Some servers (ours included) answer a Final message of statuses with an empty body.
      if (this.lastSent?.final && !hasPending(this.ob)) return this.end('complete');
      throw new ClientSessionError('unexpected-reply', 'empty reply in the middle of the session');
    }
    const encoding = encodingOf(header(replyHeaders, 'content-type')) ?? this.cfg.encoding;
    let msg: SyncMLMessage;
    try {
      msg = decodeMessage(reply, encoding, this.cfg.decodeLimits);
    } catch (e) {
      if (e instanceof DecodeError)
        throw new ClientSessionError('malformed-reply', `undecodable reply (${e.code}): ${e.message}`);
      throw e;
    }
    const hdr = msg.hdr;
    this.events.push({
      type: 'message-in',
      msgId: hdr.msgId,
      bytes: reply.length,
      final: msg.body.final,
      commands: describe(msg.body.commands),
    });
    this.checkHeader(hdr);

    // Server to client authentication comes first: nothing of an unauthenticated server runs.
    const serverAuth = this.checkServerAuth(msg, reply, replyHeaders);

    // Statuses for what we sent: our own authentication, Large Object flow, events.
    const resend = this.processStatuses(msg);
    if (hdr.meta?.maxMsgSize !== undefined && hdr.meta.maxMsgSize > 0) this.peerMaxMsgSize = hdr.meta.maxMsgSize;
    if (hdr.meta?.maxObjSize !== undefined && hdr.meta.maxObjSize > 0) this.peerMaxObjSize = hdr.meta.maxObjSize;
    // Only an authenticated server may send us elsewhere.
    if (serverAuth.ok && hdr.respURI !== undefined && hdr.respURI.trim() !== '') this.url = hdr.respURI.trim();

    const commands = msg.body.commands.filter((c) => c.kind !== 'Status');
    const hdrStatus = this.hdrStatus(hdr, serverAuth);
    const replies: Command[] = hdr.noResp ? [] : [hdrStatus];

    // The server refused our credentials, so it executed nothing of our last message: send it again.
    if (resend) this.ob = this.prependQueue(resend);

    if (!serverAuth.ok) {
      if (commands.length === 0 && msg.body.final && !hasPending(this.ob)) {
        // Nothing to protect: the server asks for nothing and the session is over.
        return this.end('complete');
      }
      // A server that will not authenticate as we ask ends the session with Alert 1223.
      // Stopping is what we would do anyway, so an unauthenticated abort is honoured: only
      // its other commands would need the server's proof, and none of them runs.
      if (commands.some(isSessionAbort)) {
        this.lo = resetLargeObjects();
        return this.end('aborted-by-server');
      }
      this.serverAuthFailures++;
      if (this.serverAuthFailures >= MAX_AUTH_ATTEMPTS) {
        throw new ClientSessionError(
          'server-auth-failed',
          `server failed authentication ${this.serverAuthFailures} times`,
        );
      }
      // Its commands are not executed and get no status: the server sends them again.
      return this.pack([hdrStatus], true);
    }
    this.serverAuthFailures = 0;

    // Session abort from the server ends everything at once (§8.3, Alert 1223).
    if (commands.some(isSessionAbort)) {
      this.lo = resetLargeObjects();
      return this.end('aborted-by-server');
    }

    let serverWantsNext = false;
    const answers: Command[] = [];
    for (const cmd of commands) {
      if (cmd.kind === 'Alert' && cmd.data.trim() === AlertCode.NextMessage) serverWantsNext = true;
      const done = await this.execute(cmd, hdr.msgId, { inAtomic: false });
      answers.push(...done.replies);
    }
    // A server Large Object must continue in its next message, unless that message could
    // not carry commands: while our package is unfinished the server only acknowledges.
    if (this.lastSent?.final !== false) {
      const ended = endMessage(this.lo);
      this.lo = ended.lo;
      if (ended.abandoned) answers.push(noEndOfDataAlert(ended.abandoned));
    }
    // Statuses (and 1225) before Results: a big Results goes out as a Large Object that
    // fills messages, and a 213 held behind it would stall the server's own object.
    replies.push(...answers.filter((c) => c.kind !== 'Results'), ...answers.filter((c) => c.kind === 'Results'));

    const onlyStatuses = commands.length === 0;
    if (msg.body.final && onlyStatuses && !hasPending(this.ob)) return this.end('complete');

    // A server package not finished yet: ask for its next message when we have nothing of our own.
    if (!msg.body.final && !serverWantsNext && !hasPendingCommands(this.ob)) {
      replies.push({ kind: 'Alert', cmdId: 0, data: AlertCode.NextMessage, items: [] });
    }
    // The server's 1222 means it waits for the rest of our package: when this message
    // carries the rest, it is Final even though the server's message was not.
    return this.pack(replies, msg.body.final || serverWantsNext);
  }

  // -------------------------------------------------------------------------------------
  // Header, authentication, statuses

  private checkHeader(hdr: SyncHdr): void {
    if (hdr.sessionId.trim() !== this.opts.sessionId.trim()) {
      throw new ClientSessionError(
        'unexpected-reply',
        `SessionID ${hdr.sessionId} is not ours (${this.opts.sessionId})`,
      );
    }
    if (hdr.verProto.trim().toUpperCase() !== 'DM/1.2' || hdr.verDTD.trim() !== '1.2') {
      throw new ClientSessionError('unexpected-reply', `unsupported protocol ${hdr.verProto} / DTD ${hdr.verDTD}`);
    }
    // A repeated or older MsgID is a replay or a confused server; answering it would
    // execute its commands twice.
    if (hdr.msgId <= this.serverMsgId) {
      throw new ClientSessionError('unexpected-reply', `server MsgID ${hdr.msgId} does not follow ${this.serverMsgId}`);
    }
    this.serverMsgId = hdr.msgId;
  }

  private checkServerAuth(msg: SyncMLMessage, body: Uint8Array, headers: Record<string, string>): ServerAuth {
    const scheme = this.cfg.serverScheme;
    let result: 'ok' | 'missing' | 'wrong';
    if (scheme === 'hmac') {
      // HMAC authenticates every message: the header is checked each time, 212 or not.
      const h = header(headers, 'x-syncml-hmac');
      if (h === undefined) result = 'missing';
      else result = verifyHmac(h, this.cfg.server, nonceBytes(this.serverNonce), body) ? 'ok' : 'wrong';
    } else {
      const cred = msg.hdr.cred;
      if (cred === undefined) result = this.serverAuthed ? 'ok' : 'missing';
      else result = verifyCred(cred, scheme, this.cfg.server, nonceBytes(this.serverNonce)) ? 'ok' : 'wrong';
    }
    if (result === 'ok') {
      const first = !this.serverAuthed;
      this.serverAuthed = true;
      const status = first ? StatusCode.AuthAccepted : StatusCode.Ok;
      this.events.push({ type: 'server-auth', result, scheme, status });
      let chal: Chal | undefined;
      if (first && scheme !== 'basic' && this.cfg.rotateServerNonce !== false) chal = this.challengeServer();
      return chal ? { ok: true, status, chal } : { ok: true, status };
    }
    // A server that once passed but now sends a wrong credential is not trusted either.
    this.serverAuthed = false;
    const status = result === 'missing' ? StatusCode.MissingCredentials : StatusCode.Unauthorized;
    this.events.push({ type: 'server-auth', result, scheme, status });
    return { ok: false, status, chal: this.challengeServer() };
  }

  /** A fresh NextNonce for the server, which it must use from its next message on. */
  private challengeServer(): Chal {
    this.serverNonce = newNonce();
    this.events.push({ type: 'nonce', which: 'server', value: this.serverNonce });
    return makeChal(this.cfg.serverScheme, this.serverNonce);
  }

  private hdrStatus(hdr: SyncHdr, auth: ServerAuth): Status {
    const s: Status = {
      kind: 'Status',
      cmdId: 0,
      msgRef: hdr.msgId,
      cmdRef: 0,
      cmd: 'SyncHdr',
      targetRef: [hdr.target.locURI],
      sourceRef: [hdr.source.locURI],
      data: String(auth.status),
    };
    if (auth.chal) s.chal = auth.chal;
    return s;
  }

  /**
   * Feeds the server's statuses: its verdict on our credentials, Large Object 213s, events.
   * Returns the commands to send again when it refused our credentials.
   */
  private processStatuses(msg: SyncMLMessage): Command[] | undefined {
    let rejected: number | undefined;
    const acked = new Set<number>();
    for (const cmd of msg.body.commands) {
      if (cmd.kind !== 'Status') continue;
      const code = Number.parseInt(cmd.data.trim(), 10);
      const status = Number.isFinite(code) ? code : 0;
      this.events.push({ type: 'status', cmd: cmd.cmd, cmdRef: cmd.cmdRef, msgRef: cmd.msgRef, status });
      if (cmd.cmdRef === 0) {
        const refused = status === StatusCode.Unauthorized || status === StatusCode.MissingCredentials;
        if (cmd.chal) this.adoptChal(cmd.chal, refused);
        if (status === StatusCode.AuthAccepted || status === StatusCode.Ok) {
          this.authRejections = 0;
          if (status === StatusCode.AuthAccepted) this.clientAuthed = true;
          this.events.push({
            type: 'client-auth',
            status,
            accepted: true,
            attempt: this.authRejections + 1,
            scheme: this.clientScheme,
          });
        } else if (refused) {
          rejected = status;
        } else {
          throw new ClientSessionError('unexpected-reply', `server refused our message header with ${cmd.data}`);
        }
        continue;
      }
      if (isOk(status)) acked.add(cmd.cmdRef);
      const noted = noteStatus(this.ob, cmd.msgRef, cmd.cmdRef, status);
      this.ob = noted.ob;
      if (noted.failed) this.sendFailed(noted.failed);
    }
    if (rejected === undefined) return undefined;

    this.clientAuthed = false;
    this.authRejections++;
    this.events.push({
      type: 'client-auth',
      status: rejected,
      accepted: false,
      attempt: this.authRejections,
      scheme: this.clientScheme,
    });
    if (this.authRejections >= MAX_AUTH_ATTEMPTS) {
      throw new ClientSessionError('auth-failed', `server refused our credentials ${this.authRejections} times`);
    }
    const last = this.lastSent;
    if (!last) return [];
    // Everything but the old SyncHdr status and Large Object chunks (the outbox still
    // holds those) goes again, unless the server says it was done despite the header.
    return last.commands.filter((c) => {
      if (c.kind === 'Status' && c.cmdRef === 0) return false;
      if (acked.has(c.cmdId) && !isReply(c)) return false;
      if ('items' in c && Array.isArray(c.items) && c.items.some((i) => i.moreData)) return false;
      return true;
    });
  }

  /**
   * NextNonce the server asks us to use from now on; with a refusal, also the scheme it
   * names (a server may want md5 where we tried basic). A Chal riding on an acceptance
   * only hands over the nonce: its Type is not a reason to change what worked.
   */
  private adoptChal(chal: Chal, refused: boolean): void {
    const next = chal.meta.nextNonce;
    if (next !== undefined) {
      this.clientNonce = next.trim();
      this.events.push({ type: 'nonce', which: 'client', value: this.clientNonce });
    }
    if (!refused) return;
    const wanted = schemeOfType(chal.meta.type);
    if (wanted !== undefined && wanted !== this.clientScheme && this.canProduce(wanted)) this.clientScheme = wanted;
  }

  private canProduce(scheme: AuthScheme): boolean {
    if (scheme === 'basic') return this.cfg.client.password !== undefined;
    return derivedOf(this.cfg.client) !== undefined;
  }

  /** Puts commands to resend in front of everything queued (replies in front of replies). */
  private prependQueue(cmds: Command[]): OutboxState {
    const replies = cmds.filter(isReply);
    const others = cmds.filter((c) => !isReply(c));
    const fresh = enqueueReplies(
      enqueue(
        newOutbox(),
        others.map((cmd) => ({ cmd })),
      ),
      replies,
    );
    return { ...this.ob, replies: [...fresh.replies, ...this.ob.replies], queue: [...fresh.queue, ...this.ob.queue] };
  }

  // -------------------------------------------------------------------------------------
  // Executing the server's commands

  private statusOf(cmd: Command, msgRef: number, code: number, item?: Item, items?: Item[]): Status {
    const s: Status = { kind: 'Status', cmdId: 0, msgRef, cmdRef: cmd.cmdId, cmd: cmd.kind, data: String(code) };
    if (item?.target?.locURI !== undefined) s.targetRef = [item.target.locURI];
    if (item?.source?.locURI !== undefined) s.sourceRef = [item.source.locURI];
    if (items && items.length) s.items = items;
    return s;
  }

  /** 215 for a command (and everything inside it) that was not executed. */
  private notExecuted(cmd: Command, msgRef: number): Reply[] {
    if (cmd.kind === 'Status' || cmd.kind === 'Results') return [];
    const out: Reply[] = 'noResp' in cmd && cmd.noResp ? [] : [this.statusOf(cmd, msgRef, StatusCode.NotExecuted)];
    if (cmd.kind === 'Atomic' || cmd.kind === 'Sequence')
      for (const c of cmd.commands) out.push(...this.notExecuted(c, msgRef));
    return out;
  }

  private async execute(cmd: Command, msgRef: number, ctx: { inAtomic: boolean }): Promise<Executed> {
    const done = await this.executeInner(cmd, msgRef, ctx);
    // NoResp: the server wants no Status (Results of a Get still go).
    if ('noResp' in cmd && cmd.noResp)
      done.replies = done.replies.filter((r) => !(r.kind === 'Status' && r.cmdRef === cmd.cmdId));
    return done;
  }

  private async executeInner(cmd: Command, msgRef: number, ctx: { inAtomic: boolean }): Promise<Executed> {
    switch (cmd.kind) {
      case 'Status':
        return { replies: [], ok: true };
      case 'Results':
        // Servers do not normally send Results; acknowledge and ignore.
        return { replies: [this.statusOf(cmd, msgRef, StatusCode.Ok)], ok: true };
      case 'Get':
        return this.executeGet(cmd, msgRef);
      case 'Add':
      case 'Replace':
      case 'Delete':
      case 'Copy':
        return this.executeItems(cmd, msgRef, ctx);
      case 'Exec':
        return this.executeItems(cmd, msgRef, ctx);
      case 'Alert':
        return this.executeAlert(cmd, msgRef);
      case 'Atomic':
        if (ctx.inAtomic) {
          // Atomic cannot nest (OMA-TS-DM_Protocol §6.6.3); the outer one fails.
          return {
            replies: [
              this.statusOf(cmd, msgRef, StatusCode.OptionalFeatureNotSupported),
              ...cmd.commands.flatMap((c) => this.notExecuted(c, msgRef)),
            ],
            ok: false,
          };
        }
        return this.executeAtomic(cmd, msgRef);
      case 'Sequence':
        return this.executeSequence(cmd, msgRef, ctx);
      default:
        // DS commands (Put, Sync, Map) have no meaning in a DM session.
        return {
          replies: [this.statusOf(cmd, msgRef, StatusCode.OptionalFeatureNotSupported)],
          ok: false,
        };
    }
  }

  private record(cmd: Command, item: Item | undefined, status: number): void {
    const path = item?.target?.locURI ?? item?.source?.locURI;
    this.events.push({
      type: 'command',
      kind: cmd.kind,
      cmdId: cmd.cmdId,
      ...(path !== undefined ? { path } : {}),
      status,
    });
  }

  private async call(fn: () => Promise<CommandOutcome>): Promise<CommandOutcome> {
    try {
      const out = await fn();
      const status = Number.isInteger(out?.status) ? out.status : StatusCode.CommandFailed;
      return out.results ? { status, results: out.results } : { status };
    } catch {
      // The handler is the device's code; a throw there is a failed command, not a dead session.
      return { status: StatusCode.CommandFailed };
    }
  }

  private async executeGet(cmd: Extract<Command, { kind: 'Get' }>, msgRef: number): Promise<Executed> {
    if (cmd.items.length === 0)
      return { replies: [this.statusOf(cmd, msgRef, StatusCode.IncompleteCommand)], ok: false };
    const replies: Reply[] = [];
    let ok = true;
    for (const raw of cmd.items) {
      const item = withCommandMeta(raw, cmd.meta);
      const out = await this.call(() => this.handler.get(item));
      let code = out.status;
      let results: Item[] = [];
      if (isOk(code)) {
        results = (out.results ?? []).map((r) => this.resultItem(r, item));
        // An object the server said it cannot take is refused here rather than half sent.
        const max = this.peerMaxObjSize;
        if (max !== undefined && results.some((r) => dataSize(r.data) > max)) {
          code = StatusCode.RequestEntityTooLarge;
          results = [];
        }
      }
      this.record(cmd, item, code);
      if (!isOk(code)) ok = false;
      replies.push(this.statusOf(cmd, msgRef, code, item));
      if (results.length) {
        replies.push({ kind: 'Results', cmdId: 0, msgRef, cmdRef: cmd.cmdId, items: results });
      }
    }
    // Every item alike: one Status for the command (no TargetRef, as RepPro asks) and one Results.
    const statuses = replies.filter((r): r is Status => r.kind === 'Status');
    if (cmd.items.length > 1 && statuses.every((r) => r.data === statuses[0]!.data)) {
      const items = replies.flatMap((r) => (r.kind === 'Results' ? r.items : []));
      return {
        replies: [
          this.statusOf(cmd, msgRef, Number(statuses[0]!.data)),
          ...(items.length ? [{ kind: 'Results' as const, cmdId: 0, msgRef, cmdRef: cmd.cmdId, items }] : []),
        ],
        ok,
      };
    }
    return { replies, ok };
  }

  /** A Get result as it travels: Source set, binary values encoded for the wire. */
  private resultItem(r: Item, request: Item): Item {
    const out: Item = { ...r };
    if (!out.source && request.target) out.source = { locURI: request.target.locURI };
    delete out.target;
    delete out.moreData;
    const format = out.meta?.format;
    if (out.data instanceof Uint8Array && format !== undefined && format !== 'node') {
      let v: { format: string; data: Item['data'] };
      try {
        v = valueData(out.data, format, this.cfg.encoding);
      } catch {
        // A text format holding bytes that are not UTF-8 (a handler bug): send them as binary.
        v = valueData(out.data, 'bin', this.cfg.encoding);
      }
      out.data = v.data;
      out.meta = { ...(out.meta ?? {}), format: v.format };
    }
    return out;
  }

  private async executeItems(
    cmd: Extract<Command, { kind: 'Add' | 'Replace' | 'Delete' | 'Copy' | 'Exec' }>,
    msgRef: number,
    ctx: { inAtomic: boolean },
  ): Promise<Executed> {
    if (cmd.items.length === 0)
      return { replies: [this.statusOf(cmd, msgRef, StatusCode.IncompleteCommand)], ok: false };
    const replies: Reply[] = [];
    let ok = true;
    for (const raw of cmd.items) {
      let item = withCommandMeta(raw, cmd.meta);
      let code: number | undefined;
      if (cmd.kind === 'Add' || cmd.kind === 'Replace') {
        if (ctx.inAtomic && item.moreData) {
          // An Atomic lives in one message; an object spread over several cannot be part of it.
          code = StatusCode.OptionalFeatureNotSupported;
        } else {
          const r = receiveChunk(this.lo, cmd.kind, item, this.cfg.maxObjSize);
          this.lo = r.lo;
          if (r.abandoned) replies.push(noEndOfDataAlert(r.abandoned));
          const o = r.outcome;
          const path = item.target?.locURI ?? item.source?.locURI ?? '';
          if (o.kind === 'chunk') {
            code = o.status;
            const cur = this.lo.current;
            this.events.push({
              type: 'lo-in',
              path,
              received: cur?.received ?? 0,
              ...(cur?.size !== undefined ? { size: cur.size } : {}),
              done: false,
            });
          } else if (o.kind === 'error') {
            code = o.status;
            this.events.push({ type: 'lo-in', path, received: 0, done: true });
          } else if (o.kind === 'complete') {
            item = o.item;
            this.events.push({
              type: 'lo-in',
              path,
              received: dataSize(item.data),
              size: dataSize(item.data),
              done: true,
            });
          }
        }
      }
      if (code === undefined) code = (await this.dispatch(cmd, item)).status;
      this.record(cmd, item, code);
      if (!isOk(code) || code === StatusCode.ChunkAccepted) ok = false;
      replies.push(
        this.statusOf(
          cmd,
          msgRef,
          code,
          cmd.kind === 'Copy' ? item : { ...(item.target ? { target: item.target } : {}) },
        ),
      );
    }
    return { replies, ok };
  }

  private dispatch(
    cmd: Extract<Command, { kind: 'Add' | 'Replace' | 'Delete' | 'Copy' | 'Exec' }>,
    item: Item,
  ): Promise<CommandOutcome> {
    const h = this.handler;
    switch (cmd.kind) {
      case 'Add':
        return this.call(() => h.add(item));
      case 'Replace':
        return this.call(() => h.replace(item));
      case 'Delete':
        return this.call(() => h.delete(item));
      case 'Copy':
        return this.call(() => h.copy(item));
      case 'Exec':
        return this.call(() => h.exec(item, cmd.correlator?.trim()));
    }
  }

  private async executeAlert(cmd: Alert, msgRef: number): Promise<Executed> {
    const code = cmd.data.trim();
    if (code === AlertCode.NextMessage) return { replies: [this.statusOf(cmd, msgRef, StatusCode.Ok)], ok: true };
    if (!UI_ALERTS.includes(code)) {
      this.record(cmd, undefined, StatusCode.OptionalFeatureNotSupported);
      return { replies: [this.statusOf(cmd, msgRef, StatusCode.OptionalFeatureNotSupported)], ok: false };
    }
    const req = parseUiAlert(cmd);
    let resp: UiAlertResponse;
    try {
      resp = await this.handler.userAlert(req);
    } catch {
      resp = { status: StatusCode.CommandFailed };
    }
    const status = Number.isInteger(resp?.status) ? resp.status : StatusCode.CommandFailed;
    const values = status === StatusCode.Ok && code !== '1100' && code !== '1101' ? (resp.values ?? []) : [];
    // 1102 answers with the text entered, 1103/1104 with the chosen indexes, one Item each.
    const items: Item[] = values.map((v) => ({ data: v }));
    this.events.push({ type: 'ui-alert', code, cmdId: cmd.cmdId, status, ...(values.length ? { values } : {}) });
    return {
      replies: [this.statusOf(cmd, msgRef, status, undefined, items)],
      ok: status === StatusCode.Ok,
      // The user said no (or nothing): a Sequence stops here (§6.6.9, Alert 1101 in Sequence).
      stop: status !== StatusCode.Ok,
    };
  }

  private async executeSequence(
    cmd: Extract<Command, { kind: 'Sequence' }>,
    msgRef: number,
    ctx: { inAtomic: boolean },
  ): Promise<Executed> {
    const replies: Reply[] = [this.statusOf(cmd, msgRef, StatusCode.Ok)];
    let ok = true;
    let stopped = false;
    for (const c of cmd.commands) {
      if (stopped) {
        replies.push(...this.notExecuted(c, msgRef));
        continue;
      }
      const r = await this.execute(c, msgRef, ctx);
      replies.push(...r.replies);
      if (!r.ok) ok = false;
      if (r.stop) stopped = true;
    }
    return { replies, ok };
  }

  private async executeAtomic(cmd: Extract<Command, { kind: 'Atomic' }>, msgRef: number): Promise<Executed> {
    try {
      this.handler.beginAtomic();
    } catch {
      return {
        replies: [
          this.statusOf(cmd, msgRef, StatusCode.CommandFailed),
          ...cmd.commands.flatMap((c) => this.notExecuted(c, msgRef)),
        ],
        ok: false,
      };
    }
    const executed: Reply[] = [];
    const skipped: Reply[] = [];
    let failed = false;
    for (const c of cmd.commands) {
      if (failed) {
        skipped.push(...this.notExecuted(c, msgRef));
        continue;
      }
      const r = await this.execute(c, msgRef, { inAtomic: true });
      executed.push(...r.replies);
      if (!r.ok) failed = true;
    }
    if (!failed) {
      try {
        this.handler.commitAtomic();
        return { replies: [this.statusOf(cmd, msgRef, StatusCode.Ok), ...executed], ok: true };
      } catch {
        failed = true;
      }
    }
    const statusesOnly = (rs: Reply[]): Status[] => rs.filter((r): r is Status => r.kind === 'Status');
    try {
      this.handler.rollbackAtomic();
    } catch {
      // The tree may be half changed: say so (516) and keep the children's real statuses.
      this.events.push({ type: 'command', kind: 'Atomic', cmdId: cmd.cmdId, status: StatusCode.AtomicRollbackFailed });
      return {
        replies: [this.statusOf(cmd, msgRef, StatusCode.AtomicRollbackFailed), ...statusesOnly(executed), ...skipped],
        ok: false,
      };
    }
    // Rolled back: what succeeded is now undone (216); what was read is withdrawn. A 215
    // inside (a nested command that never ran) stays 215.
    const undone = statusesOnly(executed).map((s) => {
      const c = Number(s.data);
      return isOk(c) && c !== StatusCode.NotExecuted ? { ...s, data: String(StatusCode.AtomicRollbackOk) } : s;
    });
    this.events.push({ type: 'command', kind: 'Atomic', cmdId: cmd.cmdId, status: StatusCode.AtomicFailed });
    return { replies: [this.statusOf(cmd, msgRef, StatusCode.AtomicFailed), ...undone, ...skipped], ok: false };
  }

  // -------------------------------------------------------------------------------------
  // Building our messages

  private buildHdr(): SyncHdr {
    const hdr: SyncHdr = {
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionId: this.opts.sessionId,
      msgId: this.msgId,
      target: { locURI: this.cfg.serverUri },
      source: { locURI: this.cfg.devId, locName: this.cfg.client.user },
      meta: { maxMsgSize: this.cfg.maxMsgSize, maxObjSize: this.cfg.maxObjSize },
    };
    // Basic and MD5 go in every message until the server says 212 (authenticated for the
    // session); after a plain 200 it wants them again. HMAC travels in the HTTP header.
    if (!this.clientAuthed && this.clientScheme !== 'hmac') {
      let cred;
      try {
        cred = makeCred(this.clientScheme, this.cfg.client, nonceBytes(this.clientNonce));
      } catch (e) {
        throw new ClientSessionError('bad-config', e instanceof Error ? e.message : String(e));
      }
      if (cred) hdr.cred = cred;
    }
    return hdr;
  }

  private sendFailed(f: OutboxFailure): void {
    const path = f.paths[0];
    this.events.push({
      type: 'send-failed',
      kind: f.kind,
      ...(path !== undefined ? { path } : {}),
      status: f.status,
      reason: f.reason,
    });
  }

  /** Packs the next message from the outbox. `peerFinal`: the server's package is complete. */
  private pack(replies: Command[], peerFinal: boolean): Outgoing {
    this.msgId++;
    if (this.msgId > this.maxMessages) {
      throw new ClientSessionError('too-many-messages', `session reached ${this.maxMessages} messages`);
    }
    const hdr = this.buildHdr();
    const encoding = this.cfg.encoding;
    let cmdId = 0;
    const loBefore = this.ob.lo;
    const limits: Limits = {
      maxMsgSize: this.peerMaxMsgSize,
      ...(this.peerMaxObjSize !== undefined ? { maxObjSize: this.peerMaxObjSize } : {}),
    };
    const packed = nextMessage(this.ob, hdr, replies, limits, encoding, () => ++cmdId);
    this.ob = packed.ob;
    for (const f of packed.failed) this.sendFailed(f);
    for (const r of packed.sent) {
      if (r.chunk === undefined) continue;
      const loAfter = this.ob.lo;
      const size = loAfter?.total ?? loBefore?.total ?? 0;
      const sent = r.chunk === 'last' ? size : (loAfter?.offset ?? 0);
      this.events.push({ type: 'lo-out', path: r.paths[0] ?? '', sent, size, done: r.chunk === 'last' });
    }
    const final = packed.drained && peerFinal;
    const msg: SyncMLMessage = { hdr, body: { commands: packed.commands, final } };
    const body = encodeMessage(msg, encoding);
    const contentType = encoding === 'wbxml' ? MIME.dmWbxml : MIME.dmXml;
    const headers: Record<string, string> = { 'content-type': contentType };
    if (this.clientScheme === 'hmac') {
      try {
        headers['x-syncml-hmac'] = hmacHeader(this.cfg.client, nonceBytes(this.clientNonce), body);
      } catch (e) {
        throw new ClientSessionError('bad-config', e instanceof Error ? e.message : String(e));
      }
    }
    this.lastSent = { msgId: this.msgId, commands: packed.commands, final };
    this.events.push({
      type: 'message-out',
      msgId: this.msgId,
      bytes: body.length,
      final,
      commands: describe(packed.commands),
    });
    return { body, contentType, headers, url: this.url, msgId: this.msgId, final };
  }
}

interface ServerAuth {
  ok: boolean;
  /** Our status for the server's SyncHdr: 212/200, or 401/407. */
  status: number;
  chal?: Chal;
}
