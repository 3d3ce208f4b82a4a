/**
 * Rewind's OMA DS 1.2 server: one function that takes a decoded client message and answers
 * it. The session's state is JSON in ds_sessions, so the next message may reach any server
 * process.
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
import type { AppContext } from '../core/context';
import { AUTH_TYPE, constantTimeEqual, makeChal, md5Derived, md5Digest, newNonce, nonceBytes, parseBasic } from '../omadm/auth';
import type { Command, Item, Meta, Status, SyncHdr, SyncMLMessage } from '../omadm/message';
import { encodedCommandSize, encodedEnvelopeSize, type Encoding } from '../omadm/codec/index';
import { base64Decode, base64Encode, utf8Decode, utf8Encode } from '../omadm/util/bytes';
import { NS_METINF } from '../omadm/codec/wbxml-tokens';
import {
  clearDsStoreItems, dsItemByLuid, findActiveDsSession, getDsAccount, getDsAccountByUser, getDsItem, getDsStore, insertDsItem, insertDsSession,
  pendingDsItems, saveDsStore, unmappedDsItems, updateDsAccount, updateDsItem, updateDsSession, deleteDsItems, dsItemsOf, type DsAccountRow, type DsItemRow,
} from '@/db/queries/ds';
import { recordBlob } from '@/db/queries/snapshots';
import {
  acceptsType, buildDevInf, DEVINF_TYPE_XML, DEVINF_URI_11, DEVINF_URI_12, DS_ALERT, DS_STATUS, readDevInf, storeOfUri, SYNC_TYPE_OF_CODE, SYNC_TYPES,
  type DevInfSummary, type DsStoreName,
} from './protocol';
import { summarize, MAX_TEXT } from './vobject';
import { takeDsSnapshot } from './snapshot';
import { dsJobAwaiting } from './jobs';
import { deviceKeyOwner } from '../backup/sealed-store';

/** Our limits, told to clients in every SyncHdr. */
export const DS_MAX_MSG_SIZE = 1024 * 1024;
export const DS_MAX_OBJ_SIZE = MAX_TEXT;
/** What we assume of a client that names no MaxMsgSize, and the least we pack for. */
const DEFAULT_CLIENT_MSG_SIZE = 64 * 1024;
/** Longest client LUID we keep (SyncML's MaxGUIDSize is the client's to tell; real ones are far shorter). */
const MAX_LUID = 256;
const STORE_KINDS: Record<DsStoreName, readonly string[]> = { contacts: ['vcard'], calendar: ['vevent', 'vtodo'] };
const MIN_CLIENT_MSG_SIZE = 4 * 1024;

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
  counts: { received: number; added: number; replaced: number; deleted: number; failed: number; sent: number };
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

interface DsState {
  v: 1;
  accountId: string;
  clientMsgId: number;
  serverMsgId: number;
  clientMaxMsgSize: number;
  phase: 'init' | 'sync' | 'send' | 'map';
  stores: Partial<Record<DsStoreName, StoreState>>;
  devInf?: DevInfSummary;
  incoming?: IncomingObject;
  newBytes: number;
  jobId?: string;
}

export interface DsAnswer {
  message: SyncMLMessage;
  /** The session ended with this answer. */
  ended?: { ok: boolean; snapshotId?: string };
  /** How the client's credentials went, for the rate limits: refused, or accepted in this message. */
  auth?: 'failed' | 'ok';
}

export class DsServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DsServerError';
  }
}

const SERVER_DEVINF = { man: 'Rewind', mod: 'Rewind DS server', devId: 'rewind-ds', devTyp: 'server' as const, swV: '1.0' };

function clampMsgSize(n: number | undefined): number {
  return n && Number.isFinite(n) && n > 0 ? Math.min(DS_MAX_MSG_SIZE, Math.max(MIN_CLIENT_MSG_SIZE, Math.floor(n))) : DEFAULT_CLIENT_MSG_SIZE;
}

/** Checks the SyncHdr credentials against the account they name. */
async function authenticate(ctx: AppContext, hdr: SyncHdr): Promise<{ account?: DsAccountRow; code: number; chal?: 'basic' | 'md5' }> {
  const cred = hdr.cred;
  if (!cred) return { code: DS_STATUS.MissingCredentials, chal: 'basic' };
  const type = cred.meta?.type ?? AUTH_TYPE.basic;
  if (type === AUTH_TYPE.basic) {
    const b = parseBasic(cred.data);
    const account = b ? await getDsAccountByUser(ctx.db, b.user) : undefined;
    if (!b || !account) return { code: DS_STATUS.Unauthorized, chal: 'basic' };
    if (account.auth === 'md5') return { code: DS_STATUS.Unauthorized, chal: 'md5', account };
    const ok = constantTimeEqual(utf8Encode(md5Derived(b.user, b.password)), utf8Encode(account.derived));
    return ok ? { account, code: DS_STATUS.AuthAccepted } : { code: DS_STATUS.Unauthorized, chal: 'basic' };
  }
  if (type === AUTH_TYPE.md5) {
    // MD5 credentials carry no user name: SyncML puts it in the SyncHdr Source's LocName.
    const user = hdr.source.locName;
    const account = user ? await getDsAccountByUser(ctx.db, user) : undefined;
    if (!account || !account.nonce) return { code: DS_STATUS.Unauthorized, chal: 'md5', ...(account ? { account } : {}) };
    const expected = md5Digest(account.derived, nonceBytes(account.nonce));
    const ok = constantTimeEqual(utf8Encode(expected), utf8Encode(cred.data.trim()));
    return ok ? { account, code: DS_STATUS.AuthAccepted } : { code: DS_STATUS.Unauthorized, chal: 'md5', account };
  }
  return { code: DS_STATUS.Unauthorized, chal: 'basic' };
}

class Reply {
  readonly commands: Command[] = [];
  private cmdId = 1;
  constructor(readonly msgRef: number) {}
  nextId(): number { return this.cmdId++; }
  status(cmdRef: number, cmd: string, code: number, extra: Partial<Status> = {}): void {
    this.commands.push({ kind: 'Status', cmdId: this.nextId(), msgRef: this.msgRef, cmdRef, cmd, data: String(code), ...extra });
  }
  add(c: Command): void { this.commands.push(c); }
}

function responseHdr(hdr: SyncHdr, msgId: number): SyncHdr {
  return {
    verDTD: hdr.verDTD, verProto: hdr.verProto, sessionId: hdr.sessionId, msgId,
    target: { locURI: hdr.source.locURI }, source: { locURI: hdr.target.locURI },
    meta: { maxMsgSize: DS_MAX_MSG_SIZE, maxObjSize: DS_MAX_OBJ_SIZE },
  };
}

function itemBytes(item: Item): Uint8Array | undefined {
  const d = item.data;
  if (d === undefined) return undefined;
  if (typeof d === 'string') return utf8Encode(d);
  if (d instanceof Uint8Array) return d;
  return undefined; // nested XML is not contact or event data
}

/**
 * Answers one client message. Returns undefined when the message belongs to no session we
 * can take (an unknown session whose first message is not a sync initialisation).
 */
export async function handleDsMessage(ctx: AppContext, msg: SyncMLMessage, encoding: Encoding): Promise<DsAnswer> {
  const { hdr, body } = msg;
  const existing = await findActiveDsSession(ctx.db, hdr.source.locURI, hdr.sessionId);
  const reply = new Reply(hdr.msgId);

  let state: DsState;
  let rowId: string;
  let account: DsAccountRow;
  let nextNonce: string | undefined;
  if (!existing) {
    const auth = await authenticate(ctx, hdr);
    if (auth.code !== DS_STATUS.AuthAccepted || !auth.account) {
      // Refused before any state is kept: a client retries with credentials in a new message.
      let chal;
      if (auth.chal === 'md5' && auth.account) {
        const nonce = newNonce();
        await updateDsAccount(ctx.db, auth.account.id, { nonce });
        chal = makeChal('md5', nonce);
      } else {
        chal = makeChal(auth.chal === 'md5' ? 'md5' : 'basic', newNonce());
      }
      reply.status(0, 'SyncHdr', auth.code, { targetRef: [hdr.target.locURI], sourceRef: [hdr.source.locURI], chal });
      for (const c of body.commands) if (c.kind !== 'Status' && !('noResp' in c && c.noResp)) reply.status(c.cmdId, c.kind, auth.code);
      // Only credentials that were given and wrong count against the address (lib/auth/limits.ts):
      // a first message without any, or an MD5 digest before the account had a nonce, is the
      // ordinary challenge every client meets first, and a fleet behind one address meets it at once.
      const guessed = !!hdr.cred && !(auth.chal === 'md5' && auth.account && !auth.account.nonce);
      return { message: { hdr: responseHdr(hdr, 1), body: { commands: reply.commands, final: true } }, ended: { ok: false }, ...(guessed ? { auth: 'failed' as const } : {}) };
    }
    account = auth.account;
    state = { v: 1, accountId: account.id, clientMsgId: hdr.msgId, serverMsgId: 0, clientMaxMsgSize: clampMsgSize(hdr.meta?.maxMsgSize), phase: 'init', stores: {}, newBytes: 0 };
    // A session a DS job ordered through DM: its snapshot is that job's.
    const jobId = await dsJobAwaiting(ctx.db, account);
    if (jobId) state.jobId = jobId;
    rowId = (await insertDsSession(ctx.db, { source: hdr.source.locURI, sessionId: hdr.sessionId, accountId: account.id, state: JSON.stringify(state) })).id;
    // A nonce for the next session's MD5 credentials, given with this session's acceptance.
    if (hdr.cred?.meta?.type === AUTH_TYPE.md5 || account.auth === 'md5') {
      nextNonce = newNonce();
      await updateDsAccount(ctx.db, account.id, { nonce: nextNonce });
    }
    reply.status(0, 'SyncHdr', DS_STATUS.AuthAccepted, {
      targetRef: [hdr.target.locURI], sourceRef: [hdr.source.locURI],
      ...(nextNonce ? { chal: makeChal('md5', nextNonce) } : {}),
    });
  } else {
    state = JSON.parse(existing.state) as DsState;
    rowId = existing.id;
    const a = await getDsAccount(ctx.db, state.accountId);
    if (!a) throw new DsServerError('the session’s account is gone');
    account = a;
    state.clientMsgId = hdr.msgId;
    if (hdr.meta?.maxMsgSize) state.clientMaxMsgSize = clampMsgSize(hdr.meta.maxMsgSize);
    reply.status(0, 'SyncHdr', DS_STATUS.Ok, { targetRef: [hdr.target.locURI], sourceRef: [hdr.source.locURI] });
  }

  let abort = false;
  let wantsNext = false;
  for (const c of body.commands) {
    switch (c.kind) {
      case 'Status': break; // the client's answers to our commands: nothing to undo either way
      case 'Alert': {
        const code = Number(c.data);
        if (c.data === DS_ALERT.NextMessage) { wantsNext = true; ok(reply, c); break; }
        // We send no Large Objects, so a client missing the end of one has nothing to wait for.
        if (c.data === DS_ALERT.NoEndOfData) { ok(reply, c); break; }
        // Suspend and resume are not offered: a suspended session ends unfinished and the next sync starts afresh.
        if (c.data === DS_ALERT.Suspend) { abort = true; ok(reply, c); break; }
        if (!SYNC_TYPE_OF_CODE[code]) { reply.status(c.cmdId, 'Alert', DS_STATUS.OptionalNotSupported); break; }
        // A sync Alert names its datastore in an Item: without one it is incomplete, and still answered.
        if (!c.items.length) { reply.status(c.cmdId, 'Alert', DS_STATUS.IncompleteCommand); break; }
        for (const item of c.items.slice(0, 8)) await alertStore(ctx, account, state, reply, c.cmdId, code, item);
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
        if (uri !== DEVINF_URI_12 && uri !== DEVINF_URI_11) { reply.status(c.cmdId, 'Get', DS_STATUS.NotFound); break; }
        ok(reply, c);
        reply.add({
          kind: 'Results', cmdId: reply.nextId(), msgRef: hdr.msgId, cmdRef: c.cmdId, meta: { type: DEVINF_TYPE_XML },
          items: [{ source: { locURI: uri }, data: [serverDevInf()] }],
        });
        break;
      }
      case 'Sync': await applySync(ctx, account, state, reply, c); break;
      case 'Map': {
        const store = storeOfUri(c.target.locURI);
        if (!store || !state.stores[store]) { reply.status(c.cmdId, 'Map', DS_STATUS.NotFound); break; }
        for (const mi of c.mapItems.slice(0, 100_000)) {
          const item = await getDsItem(ctx.db, account.id, store, mi.target.locURI);
          if (item) {
            const clash = await dsItemByLuid(ctx.db, account.id, store, mi.source.locURI);
            if (clash && clash.id !== item.id) await updateDsItem(ctx.db, clash.id, { luid: null });
            if (mi.source.locURI.length <= MAX_LUID) await updateDsItem(ctx.db, item.id, { luid: mi.source.locURI });
          }
        }
        ok(reply, c);
        break;
      }
      default: reply.status(c.cmdId, c.kind, DS_STATUS.OptionalNotSupported);
    }
  }

  let ended: DsAnswer['ended'];
  let final = true;
  if (abort) {
    await updateDsSession(ctx.db, rowId, { status: 'failed', state: JSON.stringify(state) });
    ended = { ok: false };
  } else if (state.phase === 'send') {
    // Our Pkg 4 goes on whatever the client's message says: it answers each part with statuses (and Maps).
    final = packServerSyncs(state, reply, hdr, encoding, await nextBatch(ctx, account, state));
    if (final) state.phase = 'map';
  } else if (!body.final) {
    // The client's package goes on: answer its statuses and ask for the next message.
    final = false;
    if (!wantsNext) reply.add({ kind: 'Alert', cmdId: reply.nextId(), data: DS_ALERT.NextMessage, items: [] });
  } else if (state.phase === 'init') {
    // Pkg 2 went out with the statuses and Alerts above.
    state.phase = 'sync';
    if (!state.devInf) reply.add({ kind: 'Get', cmdId: reply.nextId(), meta: { type: DEVINF_TYPE_XML }, items: [{ target: { locURI: DEVINF_URI_12 } }] });
  } else if (state.phase === 'sync') {
    await prepareSend(ctx, account, state);
    state.phase = 'send';
    final = packServerSyncs(state, reply, hdr, encoding, await nextBatch(ctx, account, state));
    if (final) state.phase = 'map';
  } else {
    // Pkg 5 is in: the session is over.
    const snap = await finishSession(ctx, account, state);
    ended = { ok: true, snapshotId: snap.id };
  }
  state.serverMsgId++;
  if (!ended) await updateDsSession(ctx.db, rowId, { state: JSON.stringify(state) });
  else if (ended.ok) await updateDsSession(ctx.db, rowId, { status: 'complete', state: JSON.stringify(state) });
  return { message: { hdr: responseHdr(hdr, state.serverMsgId), body: { commands: reply.commands, final } }, ...(ended ? { ended } : {}), ...(!existing ? { auth: 'ok' as const } : {}) };
}

function ok(reply: Reply, c: Command & { cmdId: number; noResp?: boolean }): void {
  if (!c.noResp) reply.status(c.cmdId, c.kind, DS_STATUS.Ok);
}

function serverDevInf() {
  return buildDevInf(SERVER_DEVINF, [{ store: 'contacts', uri: 'card' }, { store: 'calendar', uri: 'cal' }]);
}

/** A client's sync Alert for one datastore: agree the sync type, answer with ours and our anchors. */
async function alertStore(ctx: AppContext, account: DsAccountRow, state: DsState, reply: Reply, cmdRef: number, code: number, item: Item): Promise<void> {
  const serverUri = item.target?.locURI ?? '';
  const clientUri = item.source?.locURI ?? '';
  const store = storeOfUri(serverUri);
  if (!store || !clientUri) {
    reply.status(cmdRef, 'Alert', DS_STATUS.NotFound, { targetRef: [serverUri], sourceRef: [clientUri] });
    return;
  }
  const last = item.meta?.anchor?.last;
  const next = item.meta?.anchor?.next ?? '';
  const saved = await getDsStore(ctx.db, account.id, store);
  let agreed = code;
  let status: number = DS_STATUS.Ok;
  // A two-way or one-way sync continues from the last one: both sides must remember the same last sync.
  const incremental = code === SYNC_TYPES['two-way'] || code === SYNC_TYPES['one-way-from-client'] || code === SYNC_TYPES['one-way-from-server'];
  if (incremental && (!saved?.clientAnchor || saved.clientAnchor !== last)) {
    agreed = SYNC_TYPES.slow;
    status = DS_STATUS.RefreshRequired;
  }
  const serverNext = String(Date.now());
  state.stores[store] = {
    code: agreed, clientUri: clientUri.slice(0, 256), serverUri: serverUri.slice(0, 256), clientNext: next.slice(0, 64),
    ...(saved?.serverAnchor ? { serverLast: saved.serverAnchor } : {}), serverNext,
    counts: { received: 0, added: 0, replaced: 0, deleted: 0, failed: 0, sent: 0 },
  };
  const anchorEcho = [{ name: 'Anchor', ns: NS_METINF, children: [{ name: 'Next', children: [next] }] }];
  reply.status(cmdRef, 'Alert', status, { targetRef: [serverUri], sourceRef: [clientUri], items: [{ data: anchorEcho }] });
  const meta: Meta = { anchor: { ...(saved?.serverAnchor ? { last: saved.serverAnchor } : {}), next: serverNext } };
  reply.add({ kind: 'Alert', cmdId: reply.nextId(), data: String(agreed), items: [{ target: { locURI: clientUri }, source: { locURI: serverUri }, meta }] });
}

/** The client's changes for one datastore: each Add, Replace and Delete applied to the server's copy. */
async function applySync(ctx: AppContext, account: DsAccountRow, state: DsState, reply: Reply, sync: Extract<Command, { kind: 'Sync' }>): Promise<void> {
  const store = storeOfUri(sync.target?.locURI);
  const st = store ? state.stores[store] : undefined;
  if (!store || !st) {
    reply.status(sync.cmdId, 'Sync', DS_STATUS.NotFound, { ...(sync.target ? { targetRef: [sync.target.locURI] } : {}) });
    return;
  }
  if (!st.started) {
    st.started = true;
    if (st.code === SYNC_TYPES['refresh-from-client']) await clearDsStoreItems(ctx.db, account.id, store);
    // A slow sync starts the mapping anew: every client item is matched again by content.
    if (st.code === SYNC_TYPES.slow) for (const i of await dsItemsOf(ctx.db, account.id, store)) if (i.luid) await updateDsItem(ctx.db, i.id, { luid: null });
  }
  reply.status(sync.cmdId, 'Sync', DS_STATUS.Ok, { ...(sync.target ? { targetRef: [sync.target.locURI] } : {}), ...(sync.source ? { sourceRef: [sync.source.locURI] } : {}) });
  const refused = st.code === SYNC_TYPES['refresh-from-server'] || st.code === SYNC_TYPES['one-way-from-server'];
  for (const c of sync.commands) {
    if (c.kind !== 'Add' && c.kind !== 'Replace' && c.kind !== 'Delete') {
      reply.status(c.cmdId, c.kind, DS_STATUS.OptionalNotSupported);
      continue;
    }
    const refs = c.items.map((i) => i.source?.locURI ?? i.target?.locURI ?? '').filter(Boolean);
    if (refused) { reply.status(c.cmdId, c.kind, DS_STATUS.NotAllowed, { sourceRef: refs }); st.counts.failed++; continue; }
    let worst: number = c.kind === 'Add' ? DS_STATUS.ItemAdded : DS_STATUS.Ok;
    for (const item of c.items) {
      if (!item.moreData) st.counts.received++;
      const code = c.kind === 'Delete'
        ? await deleteItem(ctx, account, store, st, item)
        : await putItem(ctx, account, state, store, st, c.kind, item, c.meta);
      if (code >= 300 || (code !== DS_STATUS.Ok && code !== DS_STATUS.ItemAdded)) worst = code;
      else if (code === DS_STATUS.ItemAdded && worst === DS_STATUS.Ok && c.kind === 'Replace') worst = DS_STATUS.ItemAdded;
    }
    if (!c.noResp) reply.status(c.cmdId, c.kind, worst, { sourceRef: refs });
  }
}

async function deleteItem(ctx: AppContext, account: DsAccountRow, store: DsStoreName, st: StoreState, item: Item): Promise<number> {
  const luid = item.source?.locURI ?? item.target?.locURI;
  if (luid && luid.length > MAX_LUID) return DS_STATUS.UriTooLong;
  const row = luid ? await dsItemByLuid(ctx.db, account.id, store, luid) : undefined;
  if (!row) return DS_STATUS.ItemNotDeleted;
  await deleteDsItems(ctx.db, [row.id]);
  st.counts.deleted++;
  return DS_STATUS.Ok;
}

/** An Add or Replace item (or one chunk of a Large Object): stored, matched to what the server has. */
async function putItem(
  ctx: AppContext, account: DsAccountRow, state: DsState, store: DsStoreName, st: StoreState, kind: 'Add' | 'Replace', item: Item, cmdMeta: Meta | undefined,
): Promise<number> {
  const luid = item.source?.locURI ?? item.target?.locURI ?? '';
  if (!luid) return DS_STATUS.IncompleteCommand;
  // Refused, not cut short: a shortened LUID would not be the one the client's later Replace, Delete or Map names.
  if (luid.length > MAX_LUID) { st.counts.failed++; return DS_STATUS.UriTooLong; }
  const type = item.meta?.type ?? cmdMeta?.type;
  if (!acceptsType(store, type)) { st.counts.failed++; return DS_STATUS.UnsupportedMediaType; }
  let bytes = itemBytes(item);
  if (!bytes) { st.counts.failed++; return DS_STATUS.IncompleteCommand; }
  // Large Objects: chunks until one without MoreData; the first names the total size.
  const inc = state.incoming;
  if (inc && (inc.luid !== luid || inc.store !== store)) { state.incoming = undefined; st.counts.failed++; }
  if (item.moreData || state.incoming) {
    const sofar = state.incoming ? base64Decode(state.incoming.data) : new Uint8Array();
    const joined = new Uint8Array(sofar.length + bytes.length);
    joined.set(sofar); joined.set(bytes, sofar.length);
    const declared = state.incoming?.declared ?? item.meta?.size ?? cmdMeta?.size;
    // An object announced bigger than our MaxObjSize is refused with its first chunk, before any is kept.
    if (declared !== undefined && declared > DS_MAX_OBJ_SIZE) { state.incoming = undefined; st.counts.failed++; return DS_STATUS.TooLarge; }
    if (joined.length > DS_MAX_OBJ_SIZE) { state.incoming = undefined; st.counts.failed++; return DS_STATUS.TooLarge; }
    if (item.moreData) {
      state.incoming = { store, cmd: kind, luid, ...(type ? { type } : {}), ...(declared ? { declared } : {}), data: base64Encode(joined) };
      return DS_STATUS.ChunkAccepted;
    }
    state.incoming = undefined;
    if (declared !== undefined && declared !== joined.length) { st.counts.failed++; return DS_STATUS.SizeMismatch; }
    bytes = joined;
  }
  if (bytes.length > DS_MAX_OBJ_SIZE) { st.counts.failed++; return DS_STATUS.TooLarge; }
  const text = utf8Decode(bytes, false);
  let sum;
  try {
    sum = summarize(text);
  } catch {
    sum = undefined;
  }
  // Only a vCard goes into contacts and only an event or to-do into the calendar: anything else
  // (no vObject at all, the other store's kind, a Large Object's stray tail) is not this store's format.
  if (!sum || !STORE_KINDS[store].includes(sum.kind)) { st.counts.failed++; return DS_STATUS.UnsupportedMediaType; }
  const { hash, created } = await ctx.blobs.put(bytes, await deviceKeyOwner(ctx.db, account.deviceId));
  if ((await recordBlob(ctx.db, hash, bytes.length)) && created) state.newBytes += bytes.length;
  const fields = { contentType: (type ?? (store === 'contacts' ? 'text/x-vcard' : 'text/x-vcalendar')).slice(0, 100), hash, size: bytes.length, summary: sum.summary, uid: sum.uid ?? null };
  const mine = await dsItemByLuid(ctx.db, account.id, store, luid);
  if (mine) {
    if (mine.hash !== hash || mine.contentType !== fields.contentType) { await updateDsItem(ctx.db, mine.id, { ...fields, pending: null }); st.counts.replaced++; }
    return DS_STATUS.Ok;
  }
  // Unknown LUID: in a slow sync the server may hold the same item under no LUID yet.
  if (st.code === SYNC_TYPES.slow) {
    const match = matchUnmapped(await unmappedDsItems(ctx.db, account.id, store), hash, sum.uid);
    if (match) {
      await updateDsItem(ctx.db, match.id, { ...fields, luid, pending: null });
      if (match.hash !== hash) st.counts.replaced++;
      return DS_STATUS.Ok;
    }
  }
  await insertDsItem(ctx.db, { accountId: account.id, store, luid, ...fields });
  st.counts.added++;
  return DS_STATUS.ItemAdded;
}

function matchUnmapped(rows: readonly DsItemRow[], hash: string, uid: string | undefined): DsItemRow | undefined {
  return rows.find((r) => r.hash === hash) ?? (uid ? rows.find((r) => r.uid === uid) : undefined);
}

/** After the client's Pkg 3: what the server sends back per datastore. */
async function prepareSend(ctx: AppContext, account: DsAccountRow, state: DsState): Promise<void> {
  for (const [store, st] of Object.entries(state.stores) as Array<[DsStoreName, StoreState]>) {
    let ids: string[] = [];
    if (st.code === SYNC_TYPES['refresh-from-server'] || st.code === SYNC_TYPES.slow) {
      // Refresh: everything. Slow: what the client did not send (no LUID after matching).
      ids = (await dsItemsOf(ctx.db, account.id, store)).filter((i) => st.code === SYNC_TYPES['refresh-from-server'] || !i.luid).map((i) => i.id);
    } else if (st.code === SYNC_TYPES['two-way'] || st.code === SYNC_TYPES['one-way-from-server']) {
      ids = (await pendingDsItems(ctx.db, account.id, store)).map((i) => i.id);
    }
    st.toSend = ids;
  }
}

/** The items Pkg 4's next message may carry, with their content read from the blob store. */
async function nextBatch(ctx: AppContext, account: DsAccountRow, state: DsState): Promise<Map<string, { row: DsItemRow; text: string }>> {
  const out = new Map<string, { row: DsItemRow; text: string }>();
  let bytes = 0;
  for (const [store, st] of Object.entries(state.stores) as Array<[DsStoreName, StoreState]>) {
    const gone = new Set<string>();
    for (const id of st.toSend ?? []) {
      if (bytes > state.clientMaxMsgSize) break;
      const row = await getDsItem(ctx.db, account.id, store, id);
      const content = !row ? undefined : row.pending === 'delete' ? new Uint8Array() : await ctx.blobs.get(row.hash);
      // Deleted since, or lost from the store (verification reports that): nothing to send.
      if (!row || !content) { gone.add(id); continue; }
      out.set(id, { row, text: utf8Decode(content, false) });
      bytes += row.size + 200;
    }
    if (gone.size) st.toSend = st.toSend!.filter((id) => !gone.has(id));
    if (bytes > state.clientMaxMsgSize) break;
  }
  return out;
}

/** Pkg 4: a Sync per datastore with as many of the server's items as fit; true when all have gone. */
function packServerSyncs(state: DsState, reply: Reply, hdr: SyncHdr, encoding: Encoding, batch: Map<string, { row: DsItemRow; text: string }>): boolean {
  const budget = state.clientMaxMsgSize - 512;
  let used = encodedEnvelopeSize(responseHdr(hdr, state.serverMsgId + 1), encoding) + reply.commands.reduce((n, c) => n + encodedCommandSize(c, encoding), 0);
  let items = 0;
  for (const st of Object.values(state.stores) as StoreState[]) {
    const queue = st.toSend ?? [];
    if (st.sentTotal && !queue.length) continue;
    const sync: Extract<Command, { kind: 'Sync' }> = {
      kind: 'Sync', cmdId: reply.nextId(), target: { locURI: st.clientUri }, source: { locURI: st.serverUri }, commands: [],
      ...(!st.sentTotal ? { numberOfChanges: queue.length } : {}),
    };
    st.sentTotal = true;
    used += encodedCommandSize(sync, encoding);
    reply.add(sync);
    while (queue.length) {
      const next = batch.get(queue[0]!);
      if (!next) return false; // not read for this message: the next one carries it
      const cmd = itemCommand(next.row, next.text, reply);
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

function itemCommand(row: DsItemRow, text: string, reply: Reply): Command {
  if (row.pending === 'delete') return { kind: 'Delete', cmdId: reply.nextId(), items: [{ source: { locURI: row.id }, ...(row.luid ? { target: { locURI: row.luid } } : {}) }] };
  const item: Item = { source: { locURI: row.id }, meta: { type: row.contentType }, data: text };
  if (row.pending === 'replace' && row.luid) return { kind: 'Replace', cmdId: reply.nextId(), items: [{ ...item, target: { locURI: row.luid } }] };
  return { kind: 'Add', cmdId: reply.nextId(), items: [item] };
}

async function finishSession(ctx: AppContext, account: DsAccountRow, state: DsState) {
  const now = Date.now();
  for (const [store, st] of Object.entries(state.stores) as Array<[DsStoreName, StoreState]>) {
    await ctx.db.transaction(async (tx) => {
      for (const i of await pendingDsItems(tx, account.id, store)) {
        if (i.pending === 'delete') await deleteDsItems(tx, [i.id]);
        else await updateDsItem(tx, i.id, { pending: null });
      }
    });
    await saveDsStore(ctx.db, {
      accountId: account.id, store, clientAnchor: st.clientNext || null, serverAnchor: st.serverNext, clientUri: st.clientUri,
      syncedAt: now, lastSyncType: SYNC_TYPE_OF_CODE[st.code] ?? String(st.code),
    });
  }
  const changes = Object.fromEntries(Object.entries(state.stores).map(([k, s]) => [k, s!.counts]));
  const syncType = [...new Set(Object.values(state.stores).map((s) => SYNC_TYPE_OF_CODE[s!.code] ?? String(s!.code)))].join('+') || 'none';
  return takeDsSnapshot(ctx, account, { syncType, changes, newBytes: state.newBytes, jobId: state.jobId ?? null });
}
