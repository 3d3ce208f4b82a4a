/**
 * Rewind's OMA DS 1.2 server session as pure functions over a JSON state, built like the DM
 * engine (lib/omadm/session/server.ts): the state and a decoded message in; the answer, the
 * new state and the effects to apply out. No database and no I/O here: the DS endpoint's glue
 * (lib/gateway/ds-session.ts) looks up beforehand what a message needs, applies the effects
 * through db/queries and keeps the state in ds_sessions, so the next message may reach any
 * server process.
 *
 * Per message the glue:
 *   1. for a new session: looks up the account `signInUser` names; `authenticate` checks the
 *      credentials, then `refuse` answers or `openSession` starts the state,
 *   2. loads what `lookupPlan` asks for (anchors, the rows the commands name),
 *   3. `receive` executes the commands; the glue applies its effects in order,
 *   4. when our Pkg 4 goes out: lists what each store sends (`sendSelection`, `withSendLists`)
 *      and reads the next batch (`nextReads`),
 *   5. `respond` builds the answer, and the glue stores the state.
 *
 * A session, as the Sync Protocol lays it out:
 *   client Pkg 1  credentials, DevInf (Put), one Alert per datastore with its anchors
 *   server Pkg 2  statuses, the sync type agreed per datastore (508 + slow when anchors disagree), our DevInf
 *   client Pkg 3  one Sync per datastore with its changes (all items for slow and refresh-from-client), maybe over many messages
 *   server Pkg 4  statuses, one Sync per datastore with the server's changes, over as many messages as MaxMsgSize needs
 *   client Pkg 5  statuses and Map (its LUIDs for our Adds)
 *   server Pkg 6  statuses; the session is over: anchors saved, and a snapshot of the stores taken
 * What the server holds for an account is its backup of the handset's contacts and calendar.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  AUTH_TYPE,
  constantTimeEqual,
  makeChal,
  md5Derived,
  md5Digest,
  newNonce,
  nonceBytes,
  parseBasic,
} from '../omadm/auth';
import type { Command, Item, Meta, Status, SyncHdr, SyncMLMessage } from '../omadm/message';
import { encodedCommandSize, encodedEnvelopeSize, type Encoding } from '../omadm/codec/index';
import { base64Decode, base64Encode, utf8Decode, utf8Encode } from '../omadm/util/bytes';
import { NS_METINF } from '../omadm/codec/wbxml-tokens';
import {
  acceptsType,
  buildDevInf,
  DEVINF_TYPE_XML,
  DEVINF_URI_11,
  DEVINF_URI_12,
  DS_ALERT,
  DS_STATUS,
  readDevInf,
  storeOfUri,
  SYNC_TYPE_OF_CODE,
  SYNC_TYPES,
  type DevInfSummary,
  type DsStoreName,
} from './protocol';
import { summarize, MAX_TEXT } from './vobject';

/** Our limits, told to clients in every SyncHdr. */
export const DS_MAX_MSG_SIZE = 1024 * 1024;
export const DS_MAX_OBJ_SIZE = MAX_TEXT;
/** What we assume of a client that names no MaxMsgSize, and the least we pack for. */
const DEFAULT_CLIENT_MSG_SIZE = 64 * 1024;
/** Longest client LUID we keep (SyncML's MaxGUIDSize is the client's to tell; real ones are far shorter). */
const MAX_LUID = 256;
const STORE_KINDS: Record<DsStoreName, readonly string[]> = { contacts: ['vcard'], calendar: ['vevent', 'vtodo'] };
const MIN_CLIENT_MSG_SIZE = 4 * 1024;
/** Sync Alerts answered per command: each names a datastore, and there are two. */
const MAX_ALERT_ITEMS = 8;
const MAX_MAP_ITEMS = 100_000;
/** What an item's markup adds to its content in Pkg 4, for reading no more than a message carries. */
export const ITEM_MARKUP = 200;

interface StoreState {
  code: number;
  clientUri: string;
  serverUri: string;
  clientNext: string;
  serverLast?: string;
  serverNext: string;
  /** The client's Sync for this store has started (a slow or refresh sync prepares the store once). */
  started?: boolean;
  /** Item ids still to send to the client in Pkg 4. */
  toSend?: string[];
  sentTotal?: boolean;
  /** received: items the client sent (a two-way sync sends only its changes). */
  counts: DsStoreCounts;
}

export interface DsStoreCounts {
  received: number;
  added: number;
  replaced: number;
  deleted: number;
  failed: number;
  sent: number;
}

/** A Large Object being received: the chunks so far. */
interface IncomingObject {
  store: DsStoreName;
  cmd: 'Add' | 'Replace';
  luid: string;
  type?: string;
  declared?: number;
  data: string; // base64 of the bytes so far
}

/** A session between messages, as JSON. */
export interface DsState {
  v: 1;
  accountId: string;
  clientMsgId: number;
  serverMsgId: number;
  clientMaxMsgSize: number;
  phase: 'init' | 'sync' | 'send' | 'map';
  stores: Partial<Record<DsStoreName, StoreState>>;
  devInf?: DevInfSummary;
  incoming?: IncomingObject;
  /** Content bytes this session added to the blob store (the glue counts them: only it knows what was new). */
  newBytes: number;
  jobId?: string;
}

/** What the session needs of a DS account. */
export interface DsAccount {
  id: string;
  auth: 'basic' | 'md5';
  /** MD5 of user:password, base64: the only secret kept. */
  derived: string;
  /** The nonce the account's next MD5 credentials use ('' before one was given). */
  nonce: string;
}

/** What the session needs of a server item (a ds_items row). */
export interface DsItemRef {
  id: string;
  luid: string | null;
  hash: string;
  contentType: string;
  uid: string | null;
}

/** An item going to the client in Pkg 4. */
export interface DsOutgoing {
  id: string;
  luid: string | null;
  contentType: string;
  pending: 'add' | 'replace' | 'delete' | null;
}

export interface DsItemFields {
  contentType: string;
  hash: string;
  size: number;
  summary: string;
  uid: string | null;
}

/** Changes to the server's copy, in the order they are applied; `id` may name an item inserted earlier in the same list by its `ref`. */
export type DsEffect =
  /** A refresh from the client starts: the store's items go. */
  | { kind: 'clear-store'; store: DsStoreName }
  /** Content to keep in the blob store, before the item naming its hash. */
  | { kind: 'store-content'; bytes: Uint8Array }
  | { kind: 'insert-item'; ref: string; store: DsStoreName; item: DsItemFields & { luid: string } }
  | { kind: 'update-item'; id: string; patch: Partial<DsItemFields> & { luid?: string | null; pending?: null } }
  | { kind: 'delete-item'; id: string }
  /** The session is over for this store: the server's changes are the client's now, and the anchors saved. */
  | {
      kind: 'settle-store';
      store: DsStoreName;
      clientAnchor: string | null;
      serverAnchor: string;
      clientUri: string;
      syncedAt: number;
      lastSyncType: string;
    }
  /** Then a snapshot of the account's stores (newBytes from the state the glue holds by then). */
  | { kind: 'snapshot'; syncType: string; changes: Partial<Record<DsStoreName, DsStoreCounts>>; jobId: string | null };

/** What a message needs looked up before `receive`. */
export interface DsLookupPlan {
  /** Stores whose saved anchors the message's sync Alerts compare with. */
  anchors: DsStoreName[];
  /**
   * Per store, the rows to load: every row (`all`) when the store's sync may start in this
   * message; else the rows with these LUIDs and ids, and the rows without a LUID (`unmapped`)
   * in a slow sync, which matches items by content.
   */
  items: Partial<Record<DsStoreName, { all: boolean; unmapped: boolean; luids: string[]; ids: string[] }>>;
}

export interface DsLookups {
  anchors: Partial<Record<DsStoreName, { clientAnchor: string | null; serverAnchor: string | null }>>;
  items: Partial<Record<DsStoreName, readonly DsItemRef[]>>;
}

/** How the client's credentials went: AuthAccepted with the account, or a refusal and the challenge to send. */
export interface DsVerdict {
  code: number;
  account?: DsAccount;
  chal?: 'basic' | 'md5';
}

export interface DsAnswer {
  message: SyncMLMessage;
  /** The session ended with this answer. */
  ended?: { ok: boolean; snapshotId?: string };
  /** How the client's credentials went, for the rate limits: refused, or accepted in this message. */
  auth?: 'failed' | 'ok';
}

const SERVER_DEVINF = {
  man: 'Rewind',
  mod: 'Rewind DS server',
  devId: 'rewind-ds',
  devTyp: 'server' as const,
  swV: '1.0',
};

function clampMsgSize(n: number | undefined): number {
  return n && Number.isFinite(n) && n > 0
    ? Math.min(DS_MAX_MSG_SIZE, Math.max(MIN_CLIENT_MSG_SIZE, Math.floor(n)))
    : DEFAULT_CLIENT_MSG_SIZE;
}

// Signing in -----------------------------------------------------------------------------

/** The account a new session's credentials name, for the glue to look up. */
export function signInUser(hdr: SyncHdr): string | undefined {
  const cred = hdr.cred;
  if (!cred) return undefined;
  const type = cred.meta?.type ?? AUTH_TYPE.basic;
  if (type === AUTH_TYPE.basic) return parseBasic(cred.data)?.user;
  // MD5 credentials carry no user name: SyncML puts it in the SyncHdr Source's LocName.
  if (type === AUTH_TYPE.md5) return hdr.source.locName || undefined;
  return undefined;
}

/** Checks the SyncHdr credentials against the account they name (`signInUser`'s, as found). */
export function authenticate(hdr: SyncHdr, account: DsAccount | undefined): DsVerdict {
  const cred = hdr.cred;
  if (!cred) return { code: DS_STATUS.MissingCredentials, chal: 'basic' };
  const type = cred.meta?.type ?? AUTH_TYPE.basic;
  if (type === AUTH_TYPE.basic) {
    const b = parseBasic(cred.data);
    if (!b || !account) return { code: DS_STATUS.Unauthorized, chal: 'basic' };
    if (account.auth === 'md5') return { code: DS_STATUS.Unauthorized, chal: 'md5', account };
    const ok = constantTimeEqual(utf8Encode(md5Derived(b.user, b.password)), utf8Encode(account.derived));
    return ok ? { account, code: DS_STATUS.AuthAccepted } : { code: DS_STATUS.Unauthorized, chal: 'basic' };
  }
  if (type === AUTH_TYPE.md5) {
    if (!account || !account.nonce)
      return { code: DS_STATUS.Unauthorized, chal: 'md5', ...(account ? { account } : {}) };
    const expected = md5Digest(account.derived, nonceBytes(account.nonce));
    const ok = constantTimeEqual(utf8Encode(expected), utf8Encode(cred.data.trim()));
    return ok ? { account, code: DS_STATUS.AuthAccepted } : { code: DS_STATUS.Unauthorized, chal: 'md5', account };
  }
  return { code: DS_STATUS.Unauthorized, chal: 'basic' };
}

/**
 * The answer to credentials `authenticate` refused; no state is kept, a client retries with
 * credentials in a new message. `nonce` is the account's new MD5 nonce, for the glue to store.
 */
export function refuse(
  msg: SyncMLMessage,
  verdict: DsVerdict,
): { answer: DsAnswer; nonce?: { accountId: string; nonce: string } } {
  const { hdr, body } = msg;
  const reply = new Reply(hdr.msgId);
  const nonce = newNonce();
  const saved = verdict.chal === 'md5' && verdict.account ? { accountId: verdict.account.id, nonce } : undefined;
  const chal = makeChal(verdict.chal === 'md5' ? 'md5' : 'basic', nonce);
  reply.status(0, 'SyncHdr', verdict.code, { targetRef: [hdr.target.locURI], sourceRef: [hdr.source.locURI], chal });
  for (const c of body.commands)
    if (c.kind !== 'Status' && !('noResp' in c && c.noResp)) reply.status(c.cmdId, c.kind, verdict.code);
  // Only credentials that were given and wrong count against the address (lib/auth/limits.ts):
  // a first message without any, or an MD5 digest before the account had a nonce, is the
  // ordinary challenge every client meets first, and a fleet behind one address meets it at once.
  const guessed = !!hdr.cred && !(verdict.chal === 'md5' && verdict.account && !verdict.account.nonce);
  return {
    answer: {
      message: { hdr: responseHdr(hdr, 1), body: { commands: reply.commands, final: true } },
      ended: { ok: false },
      ...(guessed ? { auth: 'failed' as const } : {}),
    },
    ...(saved ? { nonce: saved } : {}),
  };
}

/**
 * A session for credentials `authenticate` accepted. `jobId`: the DS job that ordered it, whose
 * snapshot this session's is. `nextNonce`: a nonce for the next session's MD5 credentials, for
 * the glue to store on the account and for `receive` to give with this session's acceptance.
 */
export function openSession(
  hdr: SyncHdr,
  account: DsAccount,
  opts: { jobId?: string } = {},
): { state: DsState; nextNonce?: string } {
  const state: DsState = {
    v: 1,
    accountId: account.id,
    clientMsgId: hdr.msgId,
    serverMsgId: 0,
    clientMaxMsgSize: clampMsgSize(hdr.meta?.maxMsgSize),
    phase: 'init',
    stores: {},
    newBytes: 0,
  };
  if (opts.jobId) state.jobId = opts.jobId;
  const md5 = hdr.cred?.meta?.type === AUTH_TYPE.md5 || account.auth === 'md5';
  return { state, ...(md5 ? { nextNonce: newNonce() } : {}) };
}

// Receiving ------------------------------------------------------------------------------

/** What a message needs looked up: see DsLookupPlan. `state` is the session's before the message. */
export function lookupPlan(state: DsState, msg: SyncMLMessage): DsLookupPlan {
  const anchors = new Set<DsStoreName>();
  const items: DsLookupPlan['items'] = {};
  // A store alerted in this message starts afresh, whatever it was.
  for (const c of msg.body.commands) {
    if (c.kind !== 'Alert' || !SYNC_TYPE_OF_CODE[Number(c.data)]) continue;
    for (const item of c.items.slice(0, MAX_ALERT_ITEMS)) {
      const store = storeOfUri(item.target?.locURI);
      if (store) anchors.add(store);
    }
  }
  const need = (store: DsStoreName) => {
    const st = state.stores[store];
    return (items[store] ??= {
      all: anchors.has(store) || (!!st && !st.started && st.code === SYNC_TYPES.slow),
      unmapped: st?.code === SYNC_TYPES.slow,
      luids: [],
      ids: [],
    });
  };
  for (const c of msg.body.commands) {
    if (c.kind === 'Sync') {
      const store = storeOfUri(c.target?.locURI);
      if (!store) continue;
      const n = need(store);
      for (const sub of c.commands) {
        if (sub.kind !== 'Add' && sub.kind !== 'Replace' && sub.kind !== 'Delete') continue;
        for (const item of sub.items) {
          const luid = item.source?.locURI ?? item.target?.locURI;
          if (luid) n.luids.push(luid);
        }
      }
    } else if (c.kind === 'Map') {
      const store = storeOfUri(c.target.locURI);
      if (!store) continue;
      const n = need(store);
      for (const mi of c.mapItems.slice(0, MAX_MAP_ITEMS)) {
        n.ids.push(mi.target.locURI);
        n.luids.push(mi.source.locURI);
      }
    }
  }
  return { anchors: [...anchors], items };
}

/** One store's rows as the message's commands change them, so each command sees the ones before it. */
class StoreView {
  private readonly rows = new Map<string, DsItemRef>();
  private readonly luids = new Map<string, string>();
  constructor(rows: readonly DsItemRef[]) {
    for (const r of rows) this.put({ id: r.id, luid: r.luid, hash: r.hash, contentType: r.contentType, uid: r.uid });
  }
  private put(r: DsItemRef): void {
    this.rows.set(r.id, r);
    if (r.luid !== null) this.luids.set(r.luid, r.id);
  }
  byId(id: string): DsItemRef | undefined {
    return this.rows.get(id);
  }
  byLuid(luid: string): DsItemRef | undefined {
    const id = this.luids.get(luid);
    return id === undefined ? undefined : this.rows.get(id);
  }
  all(): DsItemRef[] {
    return [...this.rows.values()];
  }
  unmapped(): DsItemRef[] {
    return this.all().filter((r) => r.luid === null);
  }
  /** A new row goes last, as the database's scans find rows in the order they came. */
  add(r: DsItemRef): void {
    this.put(r);
  }
  change(id: string, patch: Partial<DsItemRef>): void {
    const r = this.rows.get(id);
    if (!r) return;
    this.forgetLuid(r);
    this.put({ ...r, ...patch });
  }
  remove(id: string): void {
    const r = this.rows.get(id);
    if (!r) return;
    this.forgetLuid(r);
    this.rows.delete(id);
  }
  clear(): void {
    this.rows.clear();
    this.luids.clear();
  }
  private forgetLuid(r: DsItemRef): void {
    if (r.luid !== null && this.luids.get(r.luid) === r.id) this.luids.delete(r.luid);
  }
}

class Reply {
  readonly commands: Command[] = [];
  private cmdId = 1;
  constructor(readonly msgRef: number) {}
  nextId(): number {
    return this.cmdId++;
  }
  status(cmdRef: number, cmd: string, code: number, extra: Partial<Status> = {}): void {
    this.commands.push({
      kind: 'Status',
      cmdId: this.nextId(),
      msgRef: this.msgRef,
      cmdRef,
      cmd,
      data: String(code),
      ...extra,
    });
  }
  add(c: Command): void {
    this.commands.push(c);
  }
}

/** One message being executed: the state as it changes, the answer so far, the effects. */
class Step {
  readonly effects: DsEffect[] = [];
  private readonly views = new Map<DsStoreName, StoreView>();
  private inserted = 0;
  constructor(
    readonly state: DsState,
    readonly reply: Reply,
    private readonly lookups: DsLookups,
  ) {}
  view(store: DsStoreName): StoreView {
    let v = this.views.get(store);
    if (!v) this.views.set(store, (v = new StoreView(this.lookups.items[store] ?? [])));
    return v;
  }
  update(store: DsStoreName, id: string, patch: Extract<DsEffect, { kind: 'update-item' }>['patch']): void {
    this.effects.push({ kind: 'update-item', id, patch });
    this.view(store).change(id, patch);
  }
  insert(store: DsStoreName, item: DsItemFields & { luid: string }): void {
    const ref = `new:${++this.inserted}`;
    this.effects.push({ kind: 'insert-item', ref, store, item });
    this.view(store).add({ id: ref, luid: item.luid, hash: item.hash, contentType: item.contentType, uid: item.uid });
  }
  remove(store: DsStoreName, id: string): void {
    this.effects.push({ kind: 'delete-item', id });
    this.view(store).remove(id);
  }
}

export interface DsReceived {
  state: DsState;
  /** To apply in order before `respond`. */
  effects: DsEffect[];
  /**
   * Our Pkg 4 goes on in this answer: 'start' when the glue must first list what each store
   * sends (`sendSelection`, then `withSendLists`); either way it reads the next batch (`nextReads`).
   */
  pkg4?: 'start' | 'continue';
  /** The session ends with this message: the client suspended it, or its Pkg 5 is in. */
  end?: 'aborted' | 'complete';
  /** For `respond`. */
  readonly draft: { hdr: SyncHdr; reply: Reply; final: boolean };
}

/**
 * Executes one client message. `opened`: the message opened the session (`openSession`), so
 * its SyncHdr is answered 212, with the next MD5 nonce when there is one.
 */
export function receive(input: {
  state: DsState;
  message: SyncMLMessage;
  lookups: DsLookups;
  now: number;
  opened?: { nextNonce?: string };
}): DsReceived {
  const { hdr, body } = input.message;
  const state = structuredClone(input.state);
  const reply = new Reply(hdr.msgId);
  const step = new Step(state, reply, input.lookups);
  if (input.opened) {
    const { nextNonce } = input.opened;
    reply.status(0, 'SyncHdr', DS_STATUS.AuthAccepted, {
      targetRef: [hdr.target.locURI],
      sourceRef: [hdr.source.locURI],
      ...(nextNonce ? { chal: makeChal('md5', nextNonce) } : {}),
    });
  } else {
    state.clientMsgId = hdr.msgId;
    if (hdr.meta?.maxMsgSize) state.clientMaxMsgSize = clampMsgSize(hdr.meta.maxMsgSize);
    reply.status(0, 'SyncHdr', DS_STATUS.Ok, { targetRef: [hdr.target.locURI], sourceRef: [hdr.source.locURI] });
  }

  let abort = false;
  let wantsNext = false;
  for (const c of body.commands) {
    switch (c.kind) {
      case 'Status':
        break; // the client's answers to our commands: nothing to undo either way
      case 'Alert': {
        const code = Number(c.data);
        if (c.data === DS_ALERT.NextMessage) {
          wantsNext = true;
          ok(reply, c);
          break;
        }
        // We send no Large Objects, so a client missing the end of one has nothing to wait for.
        if (c.data === DS_ALERT.NoEndOfData) {
          ok(reply, c);
          break;
        }
        // Suspend and resume are not offered: a suspended session ends unfinished and the next sync starts afresh.
        if (c.data === DS_ALERT.Suspend) {
          abort = true;
          ok(reply, c);
          break;
        }
        if (!SYNC_TYPE_OF_CODE[code]) {
          reply.status(c.cmdId, 'Alert', DS_STATUS.OptionalNotSupported);
          break;
        }
        // A sync Alert names its datastore in an Item: without one it is incomplete, and still answered.
        if (!c.items.length) {
          reply.status(c.cmdId, 'Alert', DS_STATUS.IncompleteCommand);
          break;
        }
        for (const item of c.items.slice(0, MAX_ALERT_ITEMS))
          alertStore(step, input.lookups, input.now, c.cmdId, code, item);
        break;
      }
      case 'Put': {
        const info = c.items.map((i) => readDevInf(i.data)).find(Boolean);
        if (info) state.devInf = info;
        ok(reply, c);
        break;
      }
      case 'Results': {
        const info = c.items.map((i) => readDevInf(i.data)).find(Boolean);
        if (info) state.devInf = info;
        break;
      }
      case 'Get': {
        const uri = c.items[0]?.target?.locURI;
        if (uri !== DEVINF_URI_12 && uri !== DEVINF_URI_11) {
          reply.status(c.cmdId, 'Get', DS_STATUS.NotFound);
          break;
        }
        ok(reply, c);
        reply.add({
          kind: 'Results',
          cmdId: reply.nextId(),
          msgRef: hdr.msgId,
          cmdRef: c.cmdId,
          meta: { type: DEVINF_TYPE_XML },
          items: [{ source: { locURI: uri }, data: [serverDevInf()] }],
        });
        break;
      }
      case 'Sync':
        applySync(step, c);
        break;
      case 'Map': {
        const store = storeOfUri(c.target.locURI);
        if (!store || !state.stores[store]) {
          reply.status(c.cmdId, 'Map', DS_STATUS.NotFound);
          break;
        }
        const view = step.view(store);
        for (const mi of c.mapItems.slice(0, MAX_MAP_ITEMS)) {
          const item = view.byId(mi.target.locURI);
          if (item) {
            const clash = view.byLuid(mi.source.locURI);
            if (clash && clash.id !== item.id) step.update(store, clash.id, { luid: null });
            if (mi.source.locURI.length <= MAX_LUID) step.update(store, item.id, { luid: mi.source.locURI });
          }
        }
        ok(reply, c);
        break;
      }
      default:
        reply.status(c.cmdId, c.kind, DS_STATUS.OptionalNotSupported);
    }
  }

  const out: DsReceived = { state, effects: step.effects, draft: { hdr, reply, final: true } };
  if (abort) {
    out.end = 'aborted';
  } else if (state.phase === 'send') {
    // Our Pkg 4 goes on whatever the client's message says: it answers each part with statuses (and Maps).
    out.pkg4 = 'continue';
  } else if (!body.final) {
    // The client's package goes on: answer its statuses and ask for the next message.
    out.draft.final = false;
    if (!wantsNext) reply.add({ kind: 'Alert', cmdId: reply.nextId(), data: DS_ALERT.NextMessage, items: [] });
  } else if (state.phase === 'init') {
    // Pkg 2 went out with the statuses and Alerts above.
    state.phase = 'sync';
    if (!state.devInf)
      reply.add({
        kind: 'Get',
        cmdId: reply.nextId(),
        meta: { type: DEVINF_TYPE_XML },
        items: [{ target: { locURI: DEVINF_URI_12 } }],
      });
  } else if (state.phase === 'sync') {
    state.phase = 'send';
    out.pkg4 = 'start';
  } else {
    // Pkg 5 is in: the session is over.
    finish(step, input.now);
    out.end = 'complete';
  }
  return out;
}

function ok(reply: Reply, c: Command & { cmdId: number; noResp?: boolean }): void {
  if (!c.noResp) reply.status(c.cmdId, c.kind, DS_STATUS.Ok);
}

function serverDevInf() {
  return buildDevInf(SERVER_DEVINF, [
    { store: 'contacts', uri: 'card' },
    { store: 'calendar', uri: 'cal' },
  ]);
}

function responseHdr(hdr: SyncHdr, msgId: number): SyncHdr {
  return {
    verDTD: hdr.verDTD,
    verProto: hdr.verProto,
    sessionId: hdr.sessionId,
    msgId,
    target: { locURI: hdr.source.locURI },
    source: { locURI: hdr.target.locURI },
    meta: { maxMsgSize: DS_MAX_MSG_SIZE, maxObjSize: DS_MAX_OBJ_SIZE },
  };
}

/** A client's sync Alert for one datastore: agree the sync type, answer with ours and our anchors. */
function alertStore(step: Step, lookups: DsLookups, now: number, cmdRef: number, code: number, item: Item): void {
  const { state, reply } = step;
  const serverUri = item.target?.locURI ?? '';
  const clientUri = item.source?.locURI ?? '';
  const store = storeOfUri(serverUri);
  if (!store || !clientUri) {
    reply.status(cmdRef, 'Alert', DS_STATUS.NotFound, { targetRef: [serverUri], sourceRef: [clientUri] });
    return;
  }
  const last = item.meta?.anchor?.last;
  const next = item.meta?.anchor?.next ?? '';
  const saved = lookups.anchors[store];
  let agreed = code;
  let status: number = DS_STATUS.Ok;
  // A two-way or one-way sync continues from the last one: both sides must remember the same last sync.
  const incremental =
    code === SYNC_TYPES['two-way'] ||
    code === SYNC_TYPES['one-way-from-client'] ||
    code === SYNC_TYPES['one-way-from-server'];
  if (incremental && (!saved?.clientAnchor || saved.clientAnchor !== last)) {
    agreed = SYNC_TYPES.slow;
    status = DS_STATUS.RefreshRequired;
  }
  const serverNext = String(now);
  state.stores[store] = {
    code: agreed,
    clientUri: clientUri.slice(0, 256),
    serverUri: serverUri.slice(0, 256),
    clientNext: next.slice(0, 64),
    ...(saved?.serverAnchor ? { serverLast: saved.serverAnchor } : {}),
    serverNext,
    counts: { received: 0, added: 0, replaced: 0, deleted: 0, failed: 0, sent: 0 },
  };
  const anchorEcho = [{ name: 'Anchor', ns: NS_METINF, children: [{ name: 'Next', children: [next] }] }];
  reply.status(cmdRef, 'Alert', status, {
    targetRef: [serverUri],
    sourceRef: [clientUri],
    items: [{ data: anchorEcho }],
  });
  const meta: Meta = { anchor: { ...(saved?.serverAnchor ? { last: saved.serverAnchor } : {}), next: serverNext } };
  reply.add({
    kind: 'Alert',
    cmdId: reply.nextId(),
    data: String(agreed),
    items: [{ target: { locURI: clientUri }, source: { locURI: serverUri }, meta }],
  });
}

/** The client's changes for one datastore: each Add, Replace and Delete applied to the server's copy. */
function applySync(step: Step, sync: Extract<Command, { kind: 'Sync' }>): void {
  const { state, reply } = step;
  const store = storeOfUri(sync.target?.locURI);
  const st = store ? state.stores[store] : undefined;
  if (!store || !st) {
    reply.status(sync.cmdId, 'Sync', DS_STATUS.NotFound, {
      ...(sync.target ? { targetRef: [sync.target.locURI] } : {}),
    });
    return;
  }
  if (!st.started) {
    st.started = true;
    if (st.code === SYNC_TYPES['refresh-from-client']) {
      step.effects.push({ kind: 'clear-store', store });
      step.view(store).clear();
    }
    // A slow sync starts the mapping anew: every client item is matched again by content.
    if (st.code === SYNC_TYPES.slow)
      for (const i of step.view(store).all()) if (i.luid) step.update(store, i.id, { luid: null });
  }
  reply.status(sync.cmdId, 'Sync', DS_STATUS.Ok, {
    ...(sync.target ? { targetRef: [sync.target.locURI] } : {}),
    ...(sync.source ? { sourceRef: [sync.source.locURI] } : {}),
  });
  const refused = st.code === SYNC_TYPES['refresh-from-server'] || st.code === SYNC_TYPES['one-way-from-server'];
  for (const c of sync.commands) {
    if (c.kind !== 'Add' && c.kind !== 'Replace' && c.kind !== 'Delete') {
      reply.status(c.cmdId, c.kind, DS_STATUS.OptionalNotSupported);
      continue;
    }
    const refs = c.items.map((i) => i.source?.locURI ?? i.target?.locURI ?? '').filter(Boolean);
    if (refused) {
      reply.status(c.cmdId, c.kind, DS_STATUS.NotAllowed, { sourceRef: refs });
      st.counts.failed++;
      continue;
    }
    let worst: number = c.kind === 'Add' ? DS_STATUS.ItemAdded : DS_STATUS.Ok;
    for (const item of c.items) {
      if (!item.moreData) st.counts.received++;
      const code =
        c.kind === 'Delete' ? deleteItem(step, store, st, item) : putItem(step, store, st, c.kind, item, c.meta);
      if (code >= 300 || (code !== DS_STATUS.Ok && code !== DS_STATUS.ItemAdded)) worst = code;
      else if (code === DS_STATUS.ItemAdded && worst === DS_STATUS.Ok && c.kind === 'Replace')
        worst = DS_STATUS.ItemAdded;
    }
    if (!c.noResp) reply.status(c.cmdId, c.kind, worst, { sourceRef: refs });
  }
}

function deleteItem(step: Step, store: DsStoreName, st: StoreState, item: Item): number {
  const luid = item.source?.locURI ?? item.target?.locURI;
  if (luid && luid.length > MAX_LUID) return DS_STATUS.UriTooLong;
  const row = luid ? step.view(store).byLuid(luid) : undefined;
  if (!row) return DS_STATUS.ItemNotDeleted;
  step.remove(store, row.id);
  st.counts.deleted++;
  return DS_STATUS.Ok;
}

function itemBytes(item: Item): Uint8Array | undefined {
  const d = item.data;
  if (d === undefined) return undefined;
  if (typeof d === 'string') return utf8Encode(d);
  if (d instanceof Uint8Array) return d;
  return undefined; // nested XML is not contact or event data
}

/** An Add or Replace item (or one chunk of a Large Object): stored, matched to what the server has. */
function putItem(
  step: Step,
  store: DsStoreName,
  st: StoreState,
  kind: 'Add' | 'Replace',
  item: Item,
  cmdMeta: Meta | undefined,
): number {
  const { state } = step;
  const luid = item.source?.locURI ?? item.target?.locURI ?? '';
  if (!luid) return DS_STATUS.IncompleteCommand;
  // Refused, not cut short: a shortened LUID would not be the one the client's later Replace, Delete or Map names.
  if (luid.length > MAX_LUID) {
    st.counts.failed++;
    return DS_STATUS.UriTooLong;
  }
  const type = item.meta?.type ?? cmdMeta?.type;
  if (!acceptsType(store, type)) {
    st.counts.failed++;
    return DS_STATUS.UnsupportedMediaType;
  }
  let bytes = itemBytes(item);
  if (!bytes) {
    st.counts.failed++;
    return DS_STATUS.IncompleteCommand;
  }
  // Large Objects: chunks until one without MoreData; the first names the total size.
  const inc = state.incoming;
  if (inc && (inc.luid !== luid || inc.store !== store)) {
    state.incoming = undefined;
    st.counts.failed++;
  }
  if (item.moreData || state.incoming) {
    const sofar = state.incoming ? base64Decode(state.incoming.data) : new Uint8Array();
    const joined = new Uint8Array(sofar.length + bytes.length);
    joined.set(sofar);
    joined.set(bytes, sofar.length);
    const declared = state.incoming?.declared ?? item.meta?.size ?? cmdMeta?.size;
    // An object announced bigger than our MaxObjSize is refused with its first chunk, before any is kept.
    if (declared !== undefined && declared > DS_MAX_OBJ_SIZE) {
      state.incoming = undefined;
      st.counts.failed++;
      return DS_STATUS.TooLarge;
    }
    if (joined.length > DS_MAX_OBJ_SIZE) {
      state.incoming = undefined;
      st.counts.failed++;
      return DS_STATUS.TooLarge;
    }
    if (item.moreData) {
      state.incoming = {
        store,
        cmd: kind,
        luid,
        ...(type ? { type } : {}),
        ...(declared ? { declared } : {}),
        data: base64Encode(joined),
      };
      return DS_STATUS.ChunkAccepted;
    }
    state.incoming = undefined;
    if (declared !== undefined && declared !== joined.length) {
      st.counts.failed++;
      return DS_STATUS.SizeMismatch;
    }
    bytes = joined;
  }
  if (bytes.length > DS_MAX_OBJ_SIZE) {
    st.counts.failed++;
    return DS_STATUS.TooLarge;
  }
  const text = utf8Decode(bytes, false);
  let sum;
  try {
    sum = summarize(text);
  } catch {
    sum = undefined;
  }
  // Only a vCard goes into contacts and only an event or to-do into the calendar: anything else
  // (no vObject at all, the other store's kind, a Large Object's stray tail) is not this store's format.
  if (!sum || !STORE_KINDS[store].includes(sum.kind)) {
    st.counts.failed++;
    return DS_STATUS.UnsupportedMediaType;
  }
  // The blob store names content by its SHA-256, as here.
  const hash = bytesToHex(sha256(bytes));
  step.effects.push({ kind: 'store-content', bytes });
  const fields: DsItemFields = {
    contentType: (type ?? (store === 'contacts' ? 'text/x-vcard' : 'text/x-vcalendar')).slice(0, 100),
    hash,
    size: bytes.length,
    summary: sum.summary,
    uid: sum.uid ?? null,
  };
  const view = step.view(store);
  const mine = view.byLuid(luid);
  if (mine) {
    if (mine.hash !== hash || mine.contentType !== fields.contentType) {
      step.update(store, mine.id, { ...fields, pending: null });
      st.counts.replaced++;
    }
    return DS_STATUS.Ok;
  }
  // Unknown LUID: in a slow sync the server may hold the same item under no LUID yet.
  if (st.code === SYNC_TYPES.slow) {
    const match = matchUnmapped(view.unmapped(), hash, sum.uid);
    if (match) {
      step.update(store, match.id, { ...fields, luid, pending: null });
      if (match.hash !== hash) st.counts.replaced++;
      return DS_STATUS.Ok;
    }
  }
  step.insert(store, { luid, ...fields });
  st.counts.added++;
  return DS_STATUS.ItemAdded;
}

function matchUnmapped(rows: readonly DsItemRef[], hash: string, uid: string | undefined): DsItemRef | undefined {
  return rows.find((r) => r.hash === hash) ?? (uid ? rows.find((r) => r.uid === uid) : undefined);
}

/** Pkg 5 is in: every store settled with its anchors, then the snapshot. */
function finish(step: Step, now: number): void {
  const { state } = step;
  for (const [store, st] of Object.entries(state.stores) as Array<[DsStoreName, StoreState]>) {
    step.effects.push({
      kind: 'settle-store',
      store,
      clientAnchor: st.clientNext || null,
      serverAnchor: st.serverNext,
      clientUri: st.clientUri,
      syncedAt: now,
      lastSyncType: SYNC_TYPE_OF_CODE[st.code] ?? String(st.code),
    });
  }
  const changes = Object.fromEntries(Object.entries(state.stores).map(([k, s]) => [k, s!.counts]));
  const syncType =
    [...new Set(Object.values(state.stores).map((s) => SYNC_TYPE_OF_CODE[s!.code] ?? String(s!.code)))].join('+') ||
    'none';
  step.effects.push({ kind: 'snapshot', syncType, changes, jobId: state.jobId ?? null });
}

/** Content the glue added to the blob store for this session (it alone knows what was new). */
export function addNewBytes(state: DsState, n: number): DsState {
  return n ? { ...state, newBytes: state.newBytes + n } : state;
}

// Sending --------------------------------------------------------------------------------

/** Which items each store sends in Pkg 4, for the glue to list: all, those the client did not send (no LUID after matching), those with a change, or none. */
export function sendSelection(state: DsState): Partial<Record<DsStoreName, 'all' | 'unmapped' | 'pending' | 'none'>> {
  const out: Partial<Record<DsStoreName, 'all' | 'unmapped' | 'pending' | 'none'>> = {};
  for (const [store, st] of Object.entries(state.stores) as Array<[DsStoreName, StoreState]>) {
    // Refresh: everything. Slow: what the client did not send.
    out[store] =
      st.code === SYNC_TYPES['refresh-from-server']
        ? 'all'
        : st.code === SYNC_TYPES.slow
          ? 'unmapped'
          : st.code === SYNC_TYPES['two-way'] || st.code === SYNC_TYPES['one-way-from-server']
            ? 'pending'
            : 'none';
  }
  return out;
}

/** The item ids each store sends (as `sendSelection` chose them), into the state. */
export function withSendLists(state: DsState, lists: Partial<Record<DsStoreName, readonly string[]>>): DsState {
  const next = structuredClone(state);
  for (const [store, st] of Object.entries(next.stores) as Array<[DsStoreName, StoreState]>)
    st.toSend = [...(lists[store] ?? [])];
  return next;
}

/**
 * The items Pkg 4's next message may carry, in order: the glue reads them while the content
 * read so far (each item's size plus ITEM_MARKUP) is not past `budget`.
 */
export function nextReads(state: DsState): { items: Array<{ store: DsStoreName; id: string }>; budget: number } {
  const items: Array<{ store: DsStoreName; id: string }> = [];
  for (const [store, st] of Object.entries(state.stores) as Array<[DsStoreName, StoreState]>)
    for (const id of st.toSend ?? []) items.push({ store, id });
  return { items, budget: state.clientMaxMsgSize };
}

/**
 * Items read for Pkg 4's next message, by id: the row and its content (empty for a Delete),
 * or null when it is gone (deleted since, or lost from the blob store: verification reports that).
 */
export type DsBatch = ReadonlyMap<string, { row: DsOutgoing; content: Uint8Array } | null>;

/**
 * The answer to the message `receive` executed, once its effects are applied: for Pkg 4, a
 * Sync per datastore with as many of `batch`'s items as fit. Returns the state to keep.
 * `received` is used up: its answer so far is the one completed here.
 */
export function respond(
  received: DsReceived,
  encoding: Encoding,
  batch?: DsBatch,
): { message: SyncMLMessage; state: DsState } {
  const state = structuredClone(received.state);
  const { hdr, reply } = received.draft;
  let final = received.draft.final;
  if (received.pkg4) {
    final = packServerSyncs(state, reply, hdr, encoding, batch ?? new Map());
    if (final) state.phase = 'map';
  }
  state.serverMsgId++;
  return { message: { hdr: responseHdr(hdr, state.serverMsgId), body: { commands: reply.commands, final } }, state };
}

/** Pkg 4: a Sync per datastore with as many of the server's items as fit; true when all have gone. */
function packServerSyncs(state: DsState, reply: Reply, hdr: SyncHdr, encoding: Encoding, batch: DsBatch): boolean {
  for (const st of Object.values(state.stores) as StoreState[]) {
    if (st.toSend?.some((id) => batch.get(id) === null)) st.toSend = st.toSend.filter((id) => batch.get(id) !== null);
  }
  const budget = state.clientMaxMsgSize - 512;
  let used =
    encodedEnvelopeSize(responseHdr(hdr, state.serverMsgId + 1), encoding) +
    reply.commands.reduce((n, c) => n + encodedCommandSize(c, encoding), 0);
  let items = 0;
  for (const st of Object.values(state.stores) as StoreState[]) {
    const queue = st.toSend ?? [];
    if (st.sentTotal && !queue.length) continue;
    const sync: Extract<Command, { kind: 'Sync' }> = {
      kind: 'Sync',
      cmdId: reply.nextId(),
      target: { locURI: st.clientUri },
      source: { locURI: st.serverUri },
      commands: [],
      ...(!st.sentTotal ? { numberOfChanges: queue.length } : {}),
    };
    st.sentTotal = true;
    used += encodedCommandSize(sync, encoding);
    reply.add(sync);
    while (queue.length) {
      const next = batch.get(queue[0]!);
      if (!next) return false; // not read for this message: the next one carries it
      const cmd = itemCommand(next.row, utf8Decode(next.content, false), reply);
      const size = encodedCommandSize(cmd, encoding);
      // At least one item per message, so one big item cannot stall the session.
      if (items > 0 && used + size > budget) return false;
      queue.shift();
      sync.commands.push(cmd);
      used += size;
      items++;
      st.counts.sent++;
    }
  }
  return true;
}

function itemCommand(row: DsOutgoing, text: string, reply: Reply): Command {
  if (row.pending === 'delete')
    return {
      kind: 'Delete',
      cmdId: reply.nextId(),
      items: [{ source: { locURI: row.id }, ...(row.luid ? { target: { locURI: row.luid } } : {}) }],
    };
  const item: Item = { source: { locURI: row.id }, meta: { type: row.contentType }, data: text };
  if (row.pending === 'replace' && row.luid)
    return { kind: 'Replace', cmdId: reply.nextId(), items: [{ ...item, target: { locURI: row.luid } }] };
  return { kind: 'Add', cmdId: reply.nextId(), items: [item] };
}
