/**
 * The virtual handsets' OMA DS 1.2 client: one sync session against a DS server over
 * HTTP, on the same codecs and credentials as the DM engine.
 *
 *   Pkg 1  credentials (basic, or MD5 with the user in Source LocName), our DevInf (Put),
 *          an Alert per datastore with our anchors
 *   Pkg 2  the server's answer: the sync type per datastore (508 + slow when anchors disagree)
 *   Pkg 3  a Sync per datastore: every item (slow, refresh-from-client) or only the changes
 *          (two-way, one-way-from-client), over as many messages as MaxMsgSize needs; the
 *          server answers each non-final one with statuses and Alert 222
 *   Pkg 4  the server's changes, maybe over many messages: each answered with statuses and
 *          a Map of our LUIDs for its Adds (and Alert 222 while it has more)
 *   Pkg 5  the last statuses and Map; Pkg 6 closes the session
 *
 * A 401/407 with a Chal is retried once with the challenge's scheme and nonce. The client
 * works on a copy of the stores and hands it back only when the session completed, so a
 * session that fails half-way leaves the phone as it was (anchors included).
 */
import { makeCred, nonceBytes, schemeOfType } from '../lib/omadm/auth';
import { decodeMessage, encodedCommandSize, encodedEnvelopeSize, encodeMessage } from '../lib/omadm/codec/index';
import {
  MIME,
  type Command,
  type Encoding,
  type Item,
  type MapItem,
  type Status,
  type SyncHdr,
  type SyncMLMessage,
} from '../lib/omadm/message';
import { utf8Decode } from '../lib/omadm/util/bytes';
import {
  buildDevInf,
  DEVINF_TYPE_XML,
  DEVINF_URI_11,
  DEVINF_URI_12,
  DS_ALERT,
  DS_STATUS,
  storeOfUri,
  SYNC_TYPE_OF_CODE,
  SYNC_TYPES,
  type DsStoreName,
  type SyncType,
} from '../lib/ds/protocol';
import { newLuid, type DsClientStore, type HandsetDs } from './ds-store';
import { TransportError, type Transport } from './transport';

export interface DsClientConfig {
  serverUrl: string;
  user: string;
  password: string;
  /** What we try first; a challenge may switch it. */
  scheme: 'basic' | 'md5';
  devId: string;
  man: string;
  mod: string;
  swV: string;
  encoding: Encoding;
  /** Largest message we send or take. */
  maxMsgSize: number;
  stores: readonly DsStoreName[];
  syncType: SyncType;
  transport: Transport;
  /** Per message round trip. */
  timeoutMs?: number;
  sessionId?: string;
}

export interface DsStoreOutcome {
  store: DsStoreName;
  /** The sync type the server agreed (slow after a 508). */
  syncType?: SyncType;
  /** The server's status for our Alert (200, 508...) or the store's failure. */
  status: number;
  /** What this session changed, on the server (our items it took) and on the handset (its items we took). */
  added: number;
  replaced: number;
  deleted: number;
  failed: number;
  /** Items we sent, and items the server sent us. */
  sent: number;
  received: number;
}

export interface DsSessionOutcome {
  ok: boolean;
  /** B&R result code: 200, 410 authentication failed, 411 server unreachable, 412 sync failed. */
  result: 200 | 410 | 411 | 412;
  error?: string;
  stores: DsStoreOutcome[];
  messagesOut: number;
  messagesIn: number;
  /** The stores as the session left them (undefined when it failed: keep the old ones). */
  ds?: HandsetDs;
}

class DsClientError extends Error {
  constructor(
    readonly result: 410 | 411 | 412,
    message: string,
  ) {
    super(message);
    this.name = 'DsClientError';
  }
}

const CLIENT_URI: Record<DsStoreName, string> = { contacts: './contacts', calendar: './calendar' };
const SERVER_URI: Record<DsStoreName, string> = { contacts: 'card', calendar: 'cal' };
/** Room left in each message for what the size estimate cannot see. */
const SLACK = 512;

interface SentRef {
  store: DsStoreName;
  kind: 'Add' | 'Replace' | 'Delete';
  luid: string;
}

interface StoreRun {
  name: DsStoreName;
  store: DsClientStore;
  code?: number;
  status: number;
  next: string;
  serverUri: string;
  outcome: DsStoreOutcome;
  /** Our commands still to send in Pkg 3. */
  queue: Array<{ kind: 'Add' | 'Replace' | 'Delete'; luid: string }>;
  numberSent: boolean;
  /** Map items owed to the server for its Adds. */
  maps: MapItem[];
}

let anchorSeq = 0;

/** Runs one DS session; never rejects. On success `ds` holds the new stores. */
export async function runDsSession(cfg: DsClientConfig, current: HandsetDs): Promise<DsSessionOutcome> {
  const ds = structuredClone(current);
  const c = new Conversation(cfg, ds);
  try {
    await c.run();
    return {
      ok: c.runs.every((r) => r.status < 300),
      result: c.runs.every((r) => r.status < 300) ? 200 : 412,
      stores: c.outcomes(),
      messagesOut: c.out,
      messagesIn: c.in,
      ds,
    };
  } catch (e) {
    const result = e instanceof DsClientError ? e.result : 412;
    return {
      ok: false,
      result,
      error: e instanceof Error ? e.message : String(e),
      stores: c.outcomes(),
      messagesOut: c.out,
      messagesIn: c.in,
    };
  }
}

class Conversation {
  out = 0;
  in = 0;
  runs: StoreRun[];
  private msgId = 0;
  private cmdId = 1;
  private url: string;
  private sessionId: string;
  private serverMax: number;
  /** Statuses (and Results) we owe for the server's last message. */
  private owed: Command[] = [];
  private sent = new Map<number, SentRef>();

  constructor(
    private readonly cfg: DsClientConfig,
    private readonly ds: HandsetDs,
  ) {
    this.url = cfg.serverUrl;
    // Unique per session: a session the server still holds open (a client that gave up half-way) must not be continued by chance.
    this.sessionId =
      cfg.sessionId ??
      `${Date.now().toString(36)}${Math.floor(Math.random() * 0x100)
        .toString(16)
        .padStart(2, '0')}`.toUpperCase();
    this.serverMax = cfg.maxMsgSize;
    const next = `${Date.now().toString(36)}-${++anchorSeq}`;
    this.runs = [...new Set(cfg.stores)].map((name) => ({
      name,
      store: ds.stores[name],
      status: 0,
      next,
      serverUri: SERVER_URI[name],
      queue: [],
      numberSent: false,
      maps: [],
      outcome: { store: name, status: 0, added: 0, replaced: 0, deleted: 0, failed: 0, sent: 0, received: 0 },
    }));
  }

  outcomes(): DsStoreOutcome[] {
    return this.runs.map((r) => ({ ...r.outcome, status: r.status || DS_STATUS.CommandFailed }));
  }

  private id(): number {
    return this.cmdId++;
  }

  private hdr(cred: boolean, scheme: 'basic' | 'md5', nonce: string): SyncHdr {
    return {
      verDTD: '1.2',
      verProto: 'SyncML/1.2',
      sessionId: this.sessionId,
      msgId: this.msgId + 1,
      target: { locURI: this.url },
      source: { locURI: this.cfg.devId, locName: this.cfg.user },
      ...(cred
        ? { cred: makeCred(scheme, { user: this.cfg.user, password: this.cfg.password }, nonceBytes(nonce))! }
        : {}),
      meta: { maxMsgSize: this.cfg.maxMsgSize, maxObjSize: this.cfg.maxMsgSize },
    };
  }

  private async post(hdr: SyncHdr, commands: Command[], final: boolean): Promise<SyncMLMessage> {
    this.msgId = hdr.msgId;
    const enc = this.cfg.encoding;
    const body = encodeMessage({ hdr, body: { commands, final } }, enc);
    const type = enc === 'wbxml' ? MIME.dsWbxml : MIME.dsXml;
    let reply;
    try {
      reply = await this.cfg.transport({
        method: 'POST',
        url: this.url,
        headers: { 'content-type': type, accept: type },
        body,
        timeoutMs: this.cfg.timeoutMs ?? 30_000,
        maxReplyBytes: Math.max(this.cfg.maxMsgSize * 4, 256 * 1024),
      });
    } catch (e) {
      if (e instanceof TransportError) throw new DsClientError(411, `${e.code}: ${e.message}`);
      throw e;
    }
    this.out++;
    if (reply.status === 401 || reply.status === 403)
      throw new DsClientError(410, `the DS server answered HTTP ${reply.status}`);
    if (reply.status !== 200)
      throw new DsClientError(reply.status >= 500 ? 411 : 412, `the DS server answered HTTP ${reply.status}`);
    this.in++;
    let msg: SyncMLMessage;
    try {
      msg = decodeMessage(reply.body, enc);
    } catch (e) {
      throw new DsClientError(412, `the DS server's answer does not decode: ${(e as Error).message}`);
    }
    if (msg.hdr.respURI) this.url = msg.hdr.respURI;
    if (msg.hdr.meta?.maxMsgSize) this.serverMax = Math.max(4096, msg.hdr.meta.maxMsgSize);
    return msg;
  }

  private statuses(msg: SyncMLMessage): Status[] {
    return msg.body.commands.filter((c): c is Status => c.kind === 'Status');
  }

  private owe(msg: SyncMLMessage, cmdRef: number, cmd: string, code: number, extra: Partial<Status> = {}): void {
    this.owed.push({ kind: 'Status', cmdId: 0, msgRef: msg.hdr.msgId, cmdRef, cmd, data: String(code), ...extra });
  }

  /** Takes the statuses owed so far, numbered for the message they go in. */
  private takeOwed(): Command[] {
    const out = this.owed.map((s) => ({ ...s, cmdId: this.id() }) as Command);
    this.owed = [];
    return out;
  }

  async run(): Promise<void> {
    const reply = await this.init();
    this.readPkg2(reply);
    let answer = await this.sendPkg3();
    // Pkg 4, in as many messages as the server needs; each answered with statuses and Maps.
    for (let guard = 0; ; guard++) {
      if (guard > 10_000) throw new DsClientError(412, 'the server never finished its package');
      this.readSyncReply(answer);
      const more = !answer.body.final;
      const cmds = [...this.takeOwed(), ...this.mapCommands()];
      if (more) cmds.push({ kind: 'Alert', cmdId: this.id(), data: DS_ALERT.NextMessage, items: [] });
      answer = await this.post(this.hdr(false, 'basic', ''), cmds, !more);
      if (!more) break;
    }
    // Pkg 6: the statuses for our Maps; the session is over.
    for (const s of this.statuses(answer)) {
      if (s.cmd === 'Map' && Number(s.data) >= 300)
        throw new DsClientError(412, `the server refused our Map with ${s.data}`);
    }
    for (const r of this.runs) {
      if (r.status >= 300) continue;
      r.store.anchor = r.next;
      r.store.changes = {};
    }
  }

  /** Pkg 1, again with the challenge's credentials if the server asks for others. */
  private async init(): Promise<SyncMLMessage> {
    let scheme = this.cfg.scheme;
    let nonce = this.ds.nonces[this.cfg.user] ?? '';
    for (let attempt = 0; ; attempt++) {
      this.cmdId = 1;
      this.msgId = 0;
      const cmds: Command[] = [
        {
          kind: 'Put',
          cmdId: this.id(),
          meta: { type: DEVINF_TYPE_XML },
          items: [{ source: { locURI: DEVINF_URI_12 }, data: [this.devInf()] }],
        },
        ...this.runs.map((r): Command => ({
          kind: 'Alert',
          cmdId: this.id(),
          data: String(SYNC_TYPES[this.cfg.syncType]),
          items: [
            {
              target: { locURI: r.serverUri },
              source: { locURI: CLIENT_URI[r.name] },
              meta: { anchor: { ...(r.store.anchor ? { last: r.store.anchor } : {}), next: r.next } },
            },
          ],
        })),
      ];
      const reply = await this.post(this.hdr(true, scheme, nonce), cmds, true);
      const st = this.statuses(reply).find((s) => s.cmdRef === 0);
      const code = Number(st?.data ?? 0);
      if (st?.chal?.meta.nextNonce !== undefined) this.ds.nonces[this.cfg.user] = st.chal.meta.nextNonce;
      if (code === DS_STATUS.AuthAccepted || code === DS_STATUS.Ok) return reply;
      if ((code === DS_STATUS.Unauthorized || code === DS_STATUS.MissingCredentials) && attempt === 0 && st?.chal) {
        const asked = schemeOfType(st.chal.meta.type);
        if (asked === 'basic' || asked === 'md5') scheme = asked;
        nonce = st.chal.meta.nextNonce ?? '';
        continue;
      }
      throw new DsClientError(
        code === DS_STATUS.Unauthorized || code === DS_STATUS.MissingCredentials ? 410 : 412,
        `the DS server refused the session with ${code || 'no status'}`,
      );
    }
  }

  private devInf() {
    return buildDevInf(
      { man: this.cfg.man, mod: this.cfg.mod, devId: this.cfg.devId, devTyp: 'phone', swV: this.cfg.swV },
      this.runs.map((r) => ({ store: r.name, uri: CLIENT_URI[r.name] })),
    );
  }

  /** Pkg 2: the agreed sync type per store, and what Pkg 3 will carry. */
  private readPkg2(msg: SyncMLMessage): void {
    for (const s of this.statuses(msg)) {
      if (s.cmd !== 'Alert') continue;
      const run = this.runs.find((r) => s.targetRef?.some((t) => storeOfUri(t) === r.name));
      // 508: our anchors did not match; the server's Alert says slow, which is no failure.
      if (run) run.status = Number(s.data) === DS_STATUS.RefreshRequired ? DS_STATUS.Ok : Number(s.data);
    }
    this.owe(msg, 0, 'SyncHdr', DS_STATUS.Ok);
    for (const c of msg.body.commands) {
      if (c.kind === 'Status') continue;
      if (c.kind === 'Alert') {
        const item = c.items[0];
        const run = this.runs.find((r) => storeOfUri(item?.target?.locURI) === r.name);
        const code = Number(c.data);
        if (run && SYNC_TYPE_OF_CODE[code]) {
          run.code = code;
          if (item?.source?.locURI) run.serverUri = item.source.locURI;
          this.owe(msg, c.cmdId, 'Alert', DS_STATUS.Ok, {
            ...(item?.target ? { targetRef: [item.target.locURI] } : {}),
            ...(item?.source ? { sourceRef: [item.source.locURI] } : {}),
          });
        } else {
          this.owe(msg, c.cmdId, 'Alert', DS_STATUS.NotFound);
        }
      } else if (
        c.kind === 'Get' &&
        (c.items[0]?.target?.locURI === DEVINF_URI_12 || c.items[0]?.target?.locURI === DEVINF_URI_11)
      ) {
        this.owe(msg, c.cmdId, 'Get', DS_STATUS.Ok);
        this.owed.push({
          kind: 'Results',
          cmdId: 0,
          msgRef: msg.hdr.msgId,
          cmdRef: c.cmdId,
          meta: { type: DEVINF_TYPE_XML },
          items: [{ source: { locURI: c.items[0].target.locURI }, data: [this.devInf()] }],
        });
      } else if ('cmdId' in c && !('noResp' in c && c.noResp)) {
        this.owe(msg, c.cmdId, c.kind, DS_STATUS.OptionalNotSupported);
      }
    }
    for (const r of this.runs) {
      if (r.code === undefined) {
        if (r.status < 300) r.status = DS_STATUS.NotFound;
        continue;
      }
      r.outcome.syncType = SYNC_TYPE_OF_CODE[r.code];
      const all = () =>
        Object.keys(r.store.items)
          .sort()
          .map((luid) => ({ kind: 'Add' as const, luid }));
      switch (r.code) {
        case SYNC_TYPES.slow:
        case SYNC_TYPES['refresh-from-client']:
          r.queue = all();
          break;
        case SYNC_TYPES['two-way']:
        case SYNC_TYPES['one-way-from-client']:
          r.queue = Object.entries(r.store.changes)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([luid, ch]) => ({ kind: ch === 'add' ? 'Add' : ch === 'replace' ? 'Replace' : 'Delete', luid }));
          break;
        case SYNC_TYPES['refresh-from-server']:
          // We take everything the server has: what we had goes.
          r.store.items = {};
          r.store.changes = {};
          break;
        default:
          break;
      }
    }
  }

  private itemCommand(r: StoreRun, q: { kind: 'Add' | 'Replace' | 'Delete'; luid: string }): Command {
    const cmdId = this.id();
    this.sent.set(cmdId, { store: r.name, kind: q.kind, luid: q.luid });
    if (q.kind === 'Delete') return { kind: 'Delete', cmdId, items: [{ source: { locURI: q.luid } }] };
    const it = r.store.items[q.luid]!;
    return { kind: q.kind, cmdId, meta: { type: it.type }, items: [{ source: { locURI: q.luid }, data: it.text }] };
  }

  /** Pkg 3 over as many messages as it takes; returns the server's first Pkg 4 message. */
  private async sendPkg3(): Promise<SyncMLMessage> {
    const live = this.runs.filter((r) => r.code !== undefined && r.status < 300);
    for (const r of live) r.queue = r.queue.filter((q) => q.kind === 'Delete' || Object.hasOwn(r.store.items, q.luid));
    for (;;) {
      const hdr = this.hdr(false, 'basic', '');
      const budget = Math.min(this.cfg.maxMsgSize, this.serverMax) - SLACK;
      const cmds = this.takeOwed();
      let used =
        encodedEnvelopeSize(hdr, this.cfg.encoding) +
        cmds.reduce((n, c) => n + encodedCommandSize(c, this.cfg.encoding), 0);
      let items = 0;
      let full = false;
      for (const r of live) {
        if (full) break;
        if (r.numberSent && !r.queue.length) continue;
        const sync: Extract<Command, { kind: 'Sync' }> = {
          kind: 'Sync',
          cmdId: this.id(),
          target: { locURI: r.serverUri },
          source: { locURI: CLIENT_URI[r.name] },
          commands: [],
          ...(!r.numberSent ? { numberOfChanges: r.queue.length } : {}),
        };
        r.numberSent = true;
        used += encodedCommandSize(sync, this.cfg.encoding);
        cmds.push(sync);
        while (r.queue.length) {
          const cmd = this.itemCommand(r, r.queue[0]!);
          const size = encodedCommandSize(cmd, this.cfg.encoding);
          // At least one item per message, so one big item cannot stall the session.
          if (items > 0 && used + size > budget) {
            this.sent.delete(cmd.cmdId);
            full = true;
            break;
          }
          r.queue.shift();
          sync.commands.push(cmd);
          used += size;
          items++;
          r.outcome.sent++;
        }
      }
      const done = live.every((r) => r.numberSent && !r.queue.length);
      const reply = await this.post(hdr, cmds, done);
      if (done) return reply;
      // The server's answer to a part of our package: statuses and Alert 222.
      this.readSyncReply(reply);
    }
  }

  /** A server message after Pkg 2: statuses for what we sent, its Syncs, its Alert 222. */
  private readSyncReply(msg: SyncMLMessage): void {
    for (const s of this.statuses(msg)) {
      const ref = this.sent.get(s.cmdRef);
      if (s.cmdRef === 0) {
        if (Number(s.data) >= 300)
          throw new DsClientError(
            Number(s.data) === DS_STATUS.Unauthorized ? 410 : 412,
            `the server answered our message with ${s.data}`,
          );
        continue;
      }
      if (s.cmd === 'Sync' && Number(s.data) >= 300) {
        const run = this.runs.find((r) => s.targetRef?.some((t) => storeOfUri(t) === r.name));
        if (run) run.status = Number(s.data);
        continue;
      }
      if (!ref) continue;
      this.sent.delete(s.cmdRef);
      const o = this.runs.find((r) => r.name === ref.store)!.outcome;
      const code = Number(s.data);
      if (code >= 300) o.failed++;
      else if (ref.kind === 'Add' && code === DS_STATUS.ItemAdded) o.added++;
      else if (ref.kind === 'Replace') o.replaced++;
      else if (ref.kind === 'Delete' && code === DS_STATUS.Ok) o.deleted++;
    }
    this.owe(msg, 0, 'SyncHdr', DS_STATUS.Ok);
    for (const c of msg.body.commands) {
      if (c.kind === 'Status') continue;
      if (c.kind === 'Alert' && c.data === DS_ALERT.NextMessage) {
        this.owe(msg, c.cmdId, 'Alert', DS_STATUS.Ok);
        continue;
      }
      if (c.kind === 'Sync') {
        this.applyServerSync(msg, c);
        continue;
      }
      if (!('noResp' in c && c.noResp)) this.owe(msg, c.cmdId, c.kind, DS_STATUS.OptionalNotSupported);
    }
  }

  private applyServerSync(msg: SyncMLMessage, sync: Extract<Command, { kind: 'Sync' }>): void {
    const run = this.runs.find((r) => storeOfUri(sync.target?.locURI) === r.name && r.code !== undefined);
    if (!run) {
      this.owe(msg, sync.cmdId, 'Sync', DS_STATUS.NotFound);
      return;
    }
    this.owe(msg, sync.cmdId, 'Sync', DS_STATUS.Ok, {
      ...(sync.target ? { targetRef: [sync.target.locURI] } : {}),
      ...(sync.source ? { sourceRef: [sync.source.locURI] } : {}),
    });
    const o = run.outcome;
    for (const c of sync.commands) {
      if (c.kind !== 'Add' && c.kind !== 'Replace' && c.kind !== 'Delete') {
        this.owe(msg, c.cmdId, c.kind, DS_STATUS.OptionalNotSupported);
        continue;
      }
      let worst: number = c.kind === 'Add' ? DS_STATUS.ItemAdded : DS_STATUS.Ok;
      for (const item of c.items) {
        o.received++;
        const code = this.applyItem(run, c.kind, item, c.meta?.type);
        if (code >= 300) {
          o.failed++;
          worst = code;
        }
      }
      if (!c.noResp)
        this.owe(msg, c.cmdId, c.kind, worst, {
          sourceRef: c.items.map((i) => i.source?.locURI ?? i.target?.locURI ?? '').filter(Boolean),
        });
    }
  }

  private applyItem(
    run: StoreRun,
    kind: 'Add' | 'Replace' | 'Delete',
    item: Item,
    cmdType: string | undefined,
  ): number {
    const store = run.store;
    const o = run.outcome;
    const luid = item.target?.locURI;
    if (kind === 'Delete') {
      if (!luid || !Object.hasOwn(store.items, luid)) return DS_STATUS.ItemNotDeleted;
      delete store.items[luid];
      delete store.changes[luid];
      o.deleted++;
      return DS_STATUS.Ok;
    }
    const data = item.data;
    const text = typeof data === 'string' ? data : data instanceof Uint8Array ? utf8Decode(data, false) : undefined;
    if (text === undefined || item.moreData) return DS_STATUS.OptionalNotSupported; // no Large Objects from the server
    const type = item.meta?.type ?? cmdType ?? this.ds.formats[run.name].type;
    if (kind === 'Replace' && luid && Object.hasOwn(store.items, luid)) {
      store.items[luid] = { type, text };
      o.replaced++;
      return DS_STATUS.Ok;
    }
    // An Add, or a Replace of an item we no longer have: a new item, mapped to the server's id.
    const serverId = item.source?.locURI;
    if (!serverId) return DS_STATUS.IncompleteCommand;
    const mine = newLuid(store, run.name);
    store.items[mine] = { type, text };
    run.maps.push({ target: { locURI: serverId }, source: { locURI: mine } });
    o.added++;
    return DS_STATUS.ItemAdded;
  }

  private mapCommands(): Command[] {
    const out: Command[] = [];
    for (const r of this.runs) {
      if (!r.maps.length) continue;
      out.push({
        kind: 'Map',
        cmdId: this.id(),
        target: { locURI: r.serverUri },
        source: { locURI: CLIENT_URI[r.name] },
        mapItems: r.maps,
      });
      r.maps = [];
    }
    return out;
  }
}
