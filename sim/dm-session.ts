/**
 * The client side of the handset's DM sessions over HTTP: the account it reads from its
 * DMAcc, the message loop with its deadlines, the nonces kept between sessions, the
 * Generic Alerts a session delivers, and a summary of every session. It also checks a
 * Package #0 before the handset answers it, with the same account.
 */
import { nonceBytes, type Secret } from '../lib/omadm/auth';
import { MIME, type Item } from '../lib/omadm/message';
import { dmAccPaths, parseDmAccounts, schemeOfAAuthType } from '../lib/omadm/mo/dmacc';
import { parseNotification, verifyNotification } from '../lib/omadm/notification';
import type { ClientHandler } from '../lib/omadm/session/client-handler';
import {
  ClientSession,
  ClientSessionError,
  type ClientConfig,
  type ClientEvent,
  type Outgoing,
} from '../lib/omadm/session/client';
import { utf8Decode } from '../lib/omadm/util/bytes';
import type { HandsetCore } from './handset-core';
import { TransportError, type Transport } from './transport';

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
  | 'timeout'
  | 'network'
  | 'dropped'
  | 'too-large'
  | 'bad-url'
  | 'http-status'
  | 'offline'
  | 'internal'
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

export type Notification = ReturnType<typeof parseNotification>;

const MAX_SESSION_HISTORY = 50;

function bump(m: Record<string, number>, k: string | number): void {
  const key = String(k);
  m[key] = (m[key] ?? 0) + 1;
}

class HttpStatusError extends Error {}

/** Retry-After in seconds (the form our server sends), in ms; undefined when absent or not a number of seconds. */
function retryAfterMs(headers: Record<string, string>): number | undefined {
  const v = headers['retry-after'];
  return v !== undefined && /^\d{1,5}$/.test(v.trim()) ? Number(v) * 1000 : undefined;
}
class OfflineError extends Error {}

function errorKind(e: unknown): { kind: SessionErrorKind; message: string } {
  if (e instanceof TransportError) return { kind: e.code, message: e.message };
  if (e instanceof ClientSessionError) return { kind: e.code, message: e.message };
  if (e instanceof HttpStatusError) return { kind: 'http-status', message: e.message };
  if (e instanceof OfflineError) return { kind: 'offline', message: e.message };
  return { kind: 'internal', message: e instanceof Error ? e.message : String(e) };
}

export class DmSessionDriver {
  /** Most recent sessions, oldest first. */
  readonly sessions: SessionSummary[] = [];
  private readonly listeners = new Set<(s: SessionSummary) => void>();

  /** `handler` carries out the server's commands. */
  constructor(
    private readonly core: HandsetCore,
    private readonly handler: ClientHandler,
  ) {}

  /** Called with every session's summary. */
  onSession(fn: (s: SessionSummary) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The account the handset uses, read from its DMAcc (so a server's credential rotation takes effect). */
  clientConfig(url?: string): ClientConfig {
    const id = this.core.identity;
    const items: Item[] = [];
    for (const { path, node } of this.core.tree.walk('./DMAcc')) {
      if (node.kind !== 'leaf') continue;
      items.push({
        source: { locURI: path },
        data: node.format === 'b64' || node.format === 'bin' ? '' : utf8Decode(node.value, false),
      });
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
   * A Package #0 from our server with a good digest, or undefined: one that does not parse,
   * is for another server or fails the digest is dropped without a word (a real handset
   * gives an attacker nothing to probe).
   */
  verifiedNotification(pkg: Uint8Array): Notification | undefined {
    let n: Notification;
    try {
      n = parseNotification(pkg);
    } catch {
      return undefined;
    }
    const cfg = this.clientConfig();
    const serverId = this.core.identity.serverId;
    const secret: Secret = {
      user: serverId,
      ...(cfg.server.password !== undefined ? { password: cfg.server.password } : {}),
    };
    if (n.serverId !== serverId || !verifyNotification(pkg, secret, nonceBytes(this.core.state.nonces.serverNonce)))
      return undefined;
    return n;
  }

  /**
   * Runs one complete DM session over HTTP. Sessions of one handset never overlap: a
   * call while one runs waits for it. Never rejects; failures are in the summary.
   */
  connect(opts: ConnectOptions = {}): Promise<SessionSummary> {
    return this.core.work.session(() => this.run(opts));
  }

  private nextClientSessionId(): string {
    const n = this.core.state.nextSessionId;
    this.core.state.nextSessionId = n >= 0xffff ? 1 : n + 1;
    return n.toString(16).toUpperCase();
  }

  private async run(opts: ConnectOptions): Promise<SessionSummary> {
    const { core } = this;
    const limits = core.limits;
    const started = Date.now();
    const initiator = opts.initiator ?? 'client';
    const pending = [...core.state.pendingAlerts];
    const cfg = this.clientConfig(opts.url);
    const summary: SessionSummary = {
      devId: core.devId,
      ok: false,
      sessionId: opts.sessionId ?? '',
      initiator,
      url: cfg.serverUri,
      startedAt: limits.now().toISOString(),
      durationMs: 0,
      messagesOut: 0,
      messagesIn: 0,
      bytesOut: 0,
      bytesIn: 0,
      commands: 0,
      statusesSent: {},
      statusesReceived: {},
      alertsDelivered: 0,
      uiAlerts: 0,
      end: 'error',
    };
    if (opts.onlyIfPending && pending.length === 0) {
      summary.ok = true;
      summary.end = 'skipped';
      return summary;
    }
    summary.sessionId = opts.sessionId ?? this.nextClientSessionId();
    const session = new ClientSession(
      cfg,
      {
        sessionId: summary.sessionId,
        initiator,
        genericAlerts: pending.map((p) => p.alert),
        nonces: { ...core.state.nonces },
      },
      this.handler,
    );
    const transport = opts.transport ?? core.transport;
    const deadline = started + limits.sessionTimeoutMs;
    core.work.inSession = true;
    try {
      if (!core.online) throw new OfflineError('handset has no network');
      let out: Outgoing | null = session.firstMessage();
      let answered = false;
      while (out) {
        const left = deadline - Date.now();
        if (left <= 0) throw new TransportError('timeout', `session exceeded ${limits.sessionTimeoutMs} ms`);
        const reply = await transport({
          method: 'POST',
          url: out.url,
          headers: out.headers,
          body: out.body,
          timeoutMs: Math.min(limits.messageTimeoutMs, left),
          maxReplyBytes: limits.maxReplyBytes,
        });
        const wait = reply.status === 503 && !answered ? retryAfterMs(reply.headers) : undefined;
        if (wait !== undefined && wait < deadline - Date.now()) {
          // A busy server turned the session away before it began: come back when it says, as
          // a phone does, with the same first message (nothing of it was kept).
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
        if (reply.status < 200 || reply.status > 299) throw new HttpStatusError(`server answered HTTP ${reply.status}`);
        if (reply.body.length > 0 && !reply.headers['content-type'])
          reply.headers['content-type'] = cfg.encoding === 'wbxml' ? MIME.dmWbxml : MIME.dmXml;
        answered = true;
        out = await session.receive(reply.body, reply.headers);
      }
      summary.ok = true;
      summary.end = session.status === 'aborted' ? 'aborted-by-server' : 'complete';
      // Delivered: drop exactly the alerts this session carried (new ones may have arrived meanwhile).
      const sent = new Set(pending.map((p) => p.id));
      core.state.pendingAlerts = core.state.pendingAlerts.filter((p) => !sent.has(p.id));
      summary.alertsDelivered = pending.length;
    } catch (e) {
      summary.error = errorKind(e);
      summary.end = 'error';
    } finally {
      core.work.inSession = false;
      core.state.nonces = session.nonces;
      this.syncNonceLeaves();
    }
    this.tally(summary, session.events);
    summary.durationMs = Date.now() - started;
    this.sessions.push(summary);
    if (this.sessions.length > MAX_SESSION_HISTORY) this.sessions.shift();
    core.persist();
    for (const fn of this.listeners) {
      try {
        fn(summary);
      } catch {
        /* a listener's bug is not the handset's */
      }
    }
    // Operations the session asked for start now that it is over.
    core.work.startDeferred();
    return summary;
  }

  private tally(s: SessionSummary, events: readonly ClientEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'message-out':
          s.messagesOut++;
          s.bytesOut += e.bytes;
          break;
        case 'message-in':
          s.messagesIn++;
          s.bytesIn += e.bytes;
          break;
        case 'command':
          s.commands++;
          bump(s.statusesSent, e.status);
          break;
        case 'ui-alert':
          s.uiAlerts++;
          bump(s.statusesSent, e.status);
          break;
        case 'status':
          bump(s.statusesReceived, e.status);
          break;
        default:
          break;
      }
    }
  }

  /** Mirrors the session nonces into DMAcc AAuthData, where a real handset keeps them. */
  private syncNonceLeaves(): void {
    const { tree, state } = this.core;
    const p = dmAccPaths(this.core.identity.account);
    const set = (path: string, nonce: string) => {
      if (tree.has(path)) tree.set(path, nonceBytes(nonce), { format: 'b64' });
    };
    set(p.auth('CLCRED').AAuthData, state.nonces.clientNonce);
    set(p.auth('SRVCRED').AAuthData, state.nonces.serverNonce);
  }
}
