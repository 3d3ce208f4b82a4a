/**
 * The DS endpoint's brain, as dm-session.ts is DM's: finds the client's session (or signs a
 * new one in), loads what the message needs, runs one step of the DS session
 * (lib/ds/session.ts), applies its effects through db/queries and stores the new state before
 * answering. Nothing lives in process memory between messages, so any server process can take
 * the next one.
 */
import type { AppContext } from '../core/context';
import type { Encoding, SyncMLMessage } from '../omadm/message';
import {
  clearDsStoreItems,
  deleteDsItems,
  dsItemsByIds,
  dsItemsByLuids,
  dsItemsOf,
  findActiveDsSession,
  getDsAccount,
  getDsAccountByUser,
  getDsItem,
  getDsStore,
  insertDsItem,
  insertDsSession,
  pendingDsItems,
  saveDsStore,
  unmappedDsItems,
  updateDsAccount,
  updateDsItem,
  updateDsSession,
  type DsAccountRow,
  type DsItemRow,
} from '@/db/queries/ds';
import { recordBlob } from '@/db/queries/snapshots';
import { recordDeviceAttempt } from '@/db/queries/device-attempts';
import { deviceKeyOwner } from '../backup/sealed-store';
import { DS_STATUS, type DsStoreName } from '../ds/protocol';
import { takeDsSnapshot } from '../ds/snapshot';
import { dsJobAwaiting } from '../ds/jobs';
import {
  addNewBytes,
  authenticate,
  ITEM_MARKUP,
  lookupPlan,
  nextReads,
  openSession,
  receive,
  refuse,
  respond,
  sendSelection,
  signInUser,
  withSendLists,
  type DsAnswer,
  type DsBatch,
  type DsEffect,
  type DsLookupPlan,
  type DsLookups,
  type DsState,
} from '../ds/session';

export class DsServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DsServerError';
  }
}

/**
 * Whether a message proves its client, read-only (for the rate limits, before a refusal):
 * it belongs to a session already signed in, or its credentials are accepted by the
 * account they name. Nothing is written, not even a new nonce.
 */
export async function dsCredentialsHold(ctx: AppContext, msg: SyncMLMessage): Promise<boolean> {
  const { hdr } = msg;
  if (await findActiveDsSession(ctx.db, hdr.source.locURI, hdr.sessionId)) return true;
  const { named, verdict } = await checkSignIn(ctx, hdr);
  return named !== undefined && verdict.code === DS_STATUS.AuthAccepted;
}

/**
 * A message the rate limits refused (ds-http.ts): kept in the history of the handset whose DS
 * account it names, as DM's refusals are (one row however many, device-attempts.ts).
 */
export async function recordDsRefusal(ctx: AppContext, msg: SyncMLMessage): Promise<void> {
  const user = signInUser(msg.hdr);
  const named = user ? await getDsAccountByUser(ctx.db, user) : undefined;
  if (named) await recordDeviceAttempt(ctx.db, { deviceId: named.deviceId, channel: 'ds', reason: 'rate-limited' });
}

/** The account a new session's credentials name, and the verdict on them. */
async function checkSignIn(ctx: AppContext, hdr: SyncMLMessage['hdr']) {
  const user = signInUser(hdr);
  const named = user ? await getDsAccountByUser(ctx.db, user) : undefined;
  return { named, verdict: authenticate(hdr, named) };
}

/** Answers one client message of a DS session. */
export async function handleDsMessage(ctx: AppContext, msg: SyncMLMessage, encoding: Encoding): Promise<DsAnswer> {
  const { db } = ctx;
  const { hdr } = msg;
  const existing = await findActiveDsSession(db, hdr.source.locURI, hdr.sessionId);

  let state: DsState;
  let rowId: string;
  let account: DsAccountRow;
  let opened: { nextNonce?: string } | undefined;
  if (!existing) {
    const { named, verdict } = await checkSignIn(ctx, hdr);
    if (verdict.code !== DS_STATUS.AuthAccepted || !named) {
      const refused = refuse(msg, verdict);
      if (refused.nonce) await updateDsAccount(db, refused.nonce.accountId, { nonce: refused.nonce.nonce });
      // Credentials given and wrong for a known account (not the first challenge every client
      // meets) go to its handset's history, as DM's do (device_attempts bounds a flood of them).
      if (named && refused.answer.auth === 'failed')
        await recordDeviceAttempt(db, { deviceId: named.deviceId, channel: 'ds', reason: 'wrong-credentials' });
      return refused.answer;
    }
    account = named;
    // A session a DS job ordered through DM: its snapshot is that job's.
    const jobId = await dsJobAwaiting(db, account);
    const open = openSession(hdr, account, jobId ? { jobId } : {});
    state = open.state;
    rowId = (
      await insertDsSession(db, {
        source: hdr.source.locURI,
        sessionId: hdr.sessionId,
        accountId: account.id,
        state: JSON.stringify(state),
      })
    ).id;
    // A nonce for the next session's MD5 credentials, given with this session's acceptance.
    if (open.nextNonce) await updateDsAccount(db, account.id, { nonce: open.nextNonce });
    opened = open.nextNonce ? { nextNonce: open.nextNonce } : {};
  } else {
    state = JSON.parse(existing.state) as DsState;
    rowId = existing.id;
    const a = await getDsAccount(db, state.accountId);
    if (!a) throw new DsServerError('the session’s account is gone');
    account = a;
  }

  const lookups = await lookUp(ctx, account.id, lookupPlan(state, msg));
  const received = receive({ state, message: msg, lookups, now: Date.now(), ...(opened ? { opened } : {}) });
  const applied = await applyEffects(ctx, account, received.state, received.effects);
  state = applied.state;
  if (received.end === 'aborted') await updateDsSession(db, rowId, { status: 'failed', state: JSON.stringify(state) });
  if (received.pkg4 === 'start') state = withSendLists(state, await sendLists(ctx, account.id, sendSelection(state)));
  const batch = received.pkg4 ? await readBatch(ctx, account.id, state) : undefined;
  const out = respond({ ...received, state }, encoding, batch);

  const ended =
    received.end === 'aborted'
      ? { ok: false }
      : received.end === 'complete'
        ? { ok: true, ...(applied.snapshotId ? { snapshotId: applied.snapshotId } : {}) }
        : undefined;
  if (!ended) await updateDsSession(db, rowId, { state: JSON.stringify(out.state) });
  else if (ended.ok) await updateDsSession(db, rowId, { status: 'complete', state: JSON.stringify(out.state) });
  return { message: out.message, ...(ended ? { ended } : {}), ...(!existing ? { auth: 'ok' as const } : {}) };
}

/** The anchors and rows `lookupPlan` asks for. */
async function lookUp(ctx: AppContext, accountId: string, plan: DsLookupPlan): Promise<DsLookups> {
  const { db } = ctx;
  const out: DsLookups = { anchors: {}, items: {} };
  for (const store of plan.anchors) {
    const saved = await getDsStore(db, accountId, store);
    if (saved) out.anchors[store] = saved;
  }
  for (const [store, need] of Object.entries(plan.items) as Array<
    [DsStoreName, NonNullable<DsLookupPlan['items'][DsStoreName]>]
  >) {
    if (need.all) {
      out.items[store] = await dsItemsOf(db, accountId, store);
      continue;
    }
    // The unmapped first, in the order the database gives them: a slow sync matches the first that fits.
    const rows = new Map<string, DsItemRow>();
    const found = [
      ...(need.unmapped ? await unmappedDsItems(db, accountId, store) : []),
      ...(await dsItemsByLuids(db, accountId, store, need.luids)),
      ...(await dsItemsByIds(db, accountId, store, need.ids)),
    ];
    for (const r of found) if (!rows.has(r.id)) rows.set(r.id, r);
    out.items[store] = [...rows.values()];
  }
  return out;
}

/** The session's effects, in order. Returns the state with the content bytes that were new, and the snapshot taken. */
async function applyEffects(
  ctx: AppContext,
  account: DsAccountRow,
  state: DsState,
  effects: readonly DsEffect[],
): Promise<{ state: DsState; snapshotId?: string }> {
  const { db } = ctx;
  // Items inserted by this message, by the session's ref for them.
  const inserted = new Map<string, string>();
  const idOf = (id: string) => inserted.get(id) ?? id;
  let owner: string | undefined;
  let snapshotId: string | undefined;
  for (const e of effects) {
    switch (e.kind) {
      case 'clear-store':
        await clearDsStoreItems(db, account.id, e.store);
        break;
      case 'store-content': {
        owner ??= await deviceKeyOwner(db, account.deviceId);
        const { hash, created } = await ctx.blobs.put(e.bytes, owner);
        if ((await recordBlob(db, hash, e.bytes.length)) && created) state = addNewBytes(state, e.bytes.length);
        break;
      }
      case 'insert-item':
        inserted.set(e.ref, (await insertDsItem(db, { accountId: account.id, store: e.store, ...e.item })).id);
        break;
      case 'update-item':
        await updateDsItem(db, idOf(e.id), e.patch);
        break;
      case 'delete-item':
        await deleteDsItems(db, [idOf(e.id)]);
        break;
      case 'settle-store': {
        // The client holds the server's changes now: deletions done, the rest no longer pending.
        await db.transaction(async (tx) => {
          for (const i of await pendingDsItems(tx, account.id, e.store)) {
            if (i.pending === 'delete') await deleteDsItems(tx, [i.id]);
            else await updateDsItem(tx, i.id, { pending: null });
          }
        });
        await saveDsStore(db, {
          accountId: account.id,
          store: e.store,
          clientAnchor: e.clientAnchor,
          serverAnchor: e.serverAnchor,
          clientUri: e.clientUri,
          syncedAt: e.syncedAt,
          lastSyncType: e.lastSyncType,
        });
        break;
      }
      case 'snapshot':
        snapshotId = (
          await takeDsSnapshot(ctx, account, {
            syncType: e.syncType,
            changes: e.changes,
            newBytes: state.newBytes,
            jobId: e.jobId,
          })
        ).id;
        break;
    }
  }
  return { state, ...(snapshotId ? { snapshotId } : {}) };
}

/** Pkg 4's item ids per store, as `sendSelection` chose them. */
async function sendLists(
  ctx: AppContext,
  accountId: string,
  selection: ReturnType<typeof sendSelection>,
): Promise<Partial<Record<DsStoreName, string[]>>> {
  const out: Partial<Record<DsStoreName, string[]>> = {};
  for (const [store, which] of Object.entries(selection) as Array<
    [DsStoreName, NonNullable<(typeof selection)[DsStoreName]>]
  >) {
    out[store] =
      which === 'all' || which === 'unmapped'
        ? (await dsItemsOf(ctx.db, accountId, store)).filter((i) => which === 'all' || !i.luid).map((i) => i.id)
        : which === 'pending'
          ? (await pendingDsItems(ctx.db, accountId, store)).map((i) => i.id)
          : [];
  }
  return out;
}

/** The items Pkg 4's next message may carry, with their content read from the blob store. */
async function readBatch(ctx: AppContext, accountId: string, state: DsState): Promise<DsBatch> {
  const { items, budget } = nextReads(state);
  const out = new Map<string, { row: DsItemRow; content: Uint8Array } | null>();
  let bytes = 0;
  for (const { store, id } of items) {
    if (bytes > budget) break;
    const row = await getDsItem(ctx.db, accountId, store, id);
    const content = !row ? undefined : row.pending === 'delete' ? new Uint8Array() : await ctx.blobs.get(row.hash);
    if (!row || !content) {
      out.set(id, null);
      continue;
    }
    out.set(id, { row, content });
    bytes += row.size + ITEM_MARKUP;
  }
  return out;
}
