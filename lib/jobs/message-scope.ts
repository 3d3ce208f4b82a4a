/**
 * What the work of one DM message shares: rows read once, and writes that wait for the
 * message's closing transaction.
 *
 * Reads: a session's message starts a job, checks its network, plans its change detection
 * and may finish it, and each of those asked the database for the handset's policy and
 * model row again. Now the first read is kept for the rest of the message.
 *
 * Writes at the close: the gateway ends every message with one transaction (the session's
 * state, its history, the handset's row; dm-session.ts). A job's step that records where it
 * stands (a backup's walk position, the interior nodes it staged) commits there too, instead
 * of in a commit of its own: the state that asks for the next answers and the job position
 * those answers continue from are kept together or not at all. A step that stored values
 * (packs) has them durable first, and the close is then the transaction that indexes them
 * (BlobStore.putNowCommitLater, with the same checks against garbage collection as
 * putAndCommit): a message that brings values commits once. A new session's row is written
 * first in the message's first commit (atOpen), and the handset's inventory with the close
 * (dm-work.ts): a session's first messages commit once each too.
 *
 * Both are bounded by the message: `messageScope` makes the context the gateway hands to one
 * message's work, and only a context made by it remembers or defers anything (a plain
 * AppContext, as commands, the scheduler and tests pass, reads every time and commits at
 * once). Nothing outlives the message, so another server process on the same database never
 * works from what this one read before its message began.
 */
import type { Db } from '@/db/client';
import type { AppContext } from '../core/context';
import { findModel, type ModelRow } from '@/db/queries/profiles';
import type { PolicyRow } from '@/db/queries/policies';
import { policyFor, type PolicyTarget } from '../backup/policy';
import type { PendingCommit, Stored as StoredValue } from '../backup/blob-store';

type Write = (tx: Db) => Promise<void>;

/** Values a job stored (durable) in this message, whose indexing transaction is the message's close. */
interface Stored {
  pending: PendingCommit;
  write: (tx: Db, stored: StoredValue[]) => Promise<void>;
}

interface Scope {
  reads: Map<string, Promise<unknown>>;
  /** Writes waiting for the closing transaction, in the order they were asked for. */
  closing: Write[];
  /** At most one: its indexing transaction carries the other writes (there is one close). */
  stored?: Stored;
  /** What the other writes refer to (a new session's row): first in whichever commit comes first. */
  opening?: Write;
}

const scopes = new WeakMap<object, Scope>();

/** The context for one DM message's work: `ctx` itself, plus what the message shares. */
export function messageScope<C extends AppContext>(ctx: C): C {
  const scoped = { ...ctx };
  scopes.set(scoped, { reads: new Map(), closing: [] });
  return scoped;
}

function once<T>(ctx: AppContext, key: string, load: () => Promise<T>): Promise<T> {
  const memo = scopes.get(ctx)?.reads;
  if (!memo) return load();
  let p = memo.get(key) as Promise<T> | undefined;
  if (!p) {
    const loading = load();
    p = loading;
    memo.set(key, loading);
    // A failed read is not remembered: the next caller asks again.
    loading.catch(() => memo.get(key) === loading && memo.delete(key));
  }
  return p;
}

/**
 * The handset's policy as resolved at its first use in this message. Keyed by what
 * resolution reads of the device (its own policy, its model), so a message that learns the
 * handset's model (DevInfo) resolves again.
 */
export function messagePolicy(ctx: AppContext, device: PolicyTarget): Promise<PolicyRow> {
  const key = `policy ${device.id} ${device.policyId ?? ''} ${device.manufacturer ?? ''}/${device.model ?? ''}`;
  return once(ctx, key, () => policyFor(ctx.db, device));
}

/** The handset model's row (profile, change detection), as `profileFor` and `planChangeDetection` take it. */
export async function messageModel(
  ctx: AppContext,
  manufacturer: string | null,
  model: string | null,
): Promise<{ model: ModelRow | undefined }> {
  if (!manufacturer || !model) return { model: undefined };
  return { model: await once(ctx, `model ${manufacturer}/${model}`, () => findModel(ctx.db, manufacturer, model)) };
}

/**
 * Forgets the model rows read so far: reading a backup's answers may write its model's row
 * (the change detection it learned, a digest defect), and a job started after that in the
 * same message reads it again.
 */
export function forgetModels(ctx: AppContext): void {
  const memo = scopes.get(ctx)?.reads;
  if (!memo) return;
  for (const key of [...memo.keys()]) if (key.startsWith('model ')) memo.delete(key);
}

/**
 * Runs `write` in the message's closing transaction, or at once in a transaction of its own
 * outside a message. Only for writes nothing else in the message reads back: whatever runs
 * next in the message and may read them calls `flushClosing` first (dm-work.ts does, before
 * anything but the job steps of a message). Writes that index stored values go with them
 * (storeAtClose), under the store's checks.
 */
export async function atClose(ctx: AppContext, write: Write): Promise<void> {
  const scope = scopes.get(ctx);
  if (scope) scope.closing.push(write);
  else await ctx.db.transaction(write);
}

/**
 * Runs `write` first in the message's first commit (its close, or a flush before it), or at
 * once outside a message: for a row the message's other writes refer to, such as a new
 * session's, which then costs no commit of its own. Until that commit nothing else has it:
 * the message's work may not read it back or write to it directly before `flushClosing`.
 */
export async function atOpen(ctx: AppContext, write: Write): Promise<void> {
  const scope = scopes.get(ctx);
  if (scope && !scope.opening) scope.opening = write;
  else await ctx.db.transaction(write);
}

/**
 * Values stored for a job step (durable, by BlobStore.putNowCommitLater) whose indexing, with
 * the step's `write` (its staging and position), waits for the message's close, where the
 * gateway's closing writes join that one transaction: a message that brings values commits
 * once. Returns false when it cannot wait (outside a message, or values already wait: the
 * caller commits at once, after `flushClosing`). While they wait, the owner's other stores in
 * this process wait too: whatever stores for the handset in this message flushes first.
 */
export function storeAtClose(
  ctx: AppContext,
  pending: PendingCommit,
  write: (tx: Db, stored: StoredValue[]) => Promise<void>,
): boolean {
  const scope = scopes.get(ctx);
  if (!scope || scope.stored) return false;
  scope.stored = { pending, write };
  return true;
}

/** Whether storeAtClose would take values now. */
export function canStoreAtClose(ctx: AppContext): boolean {
  const scope = scopes.get(ctx);
  return !!scope && !scope.stored;
}

/**
 * Runs `close` with everything the message left for it in one transaction: the indexing
 * transaction of its stored values when there are some, else a transaction of its own.
 */
export async function commitClosing(ctx: AppContext, close: Write): Promise<void> {
  const scope = scopes.get(ctx);
  const writes = scope?.closing.splice(0) ?? [];
  const stored = scope?.stored;
  const opening = scope?.opening;
  if (scope) scope.stored = scope.opening = undefined;
  const all: Write = async (tx) => {
    for (const w of writes) await w(tx);
    await close(tx);
  };
  if (!stored)
    return ctx.db.transaction(async (tx) => {
      await opening?.(tx);
      await all(tx);
    });
  await stored.pending.commit(async (tx, values) => {
    await opening?.(tx);
    await stored.write(tx, values);
    await all(tx);
  });
}

/** Commits what waits for the close now, in one transaction (something is about to read or store). */
export async function flushClosing(ctx: AppContext): Promise<void> {
  const scope = scopes.get(ctx);
  if (scope && (scope.closing.length || scope.stored || scope.opening)) await commitClosing(ctx, async () => {});
}

/**
 * Commits what earlier work of the message left for the close, which the work that follows may
 * read back; the opening write alone waits on (whatever may read or write that row flushes first).
 */
export async function flushEarlierWork(ctx: AppContext): Promise<void> {
  const scope = scopes.get(ctx);
  if (scope && (scope.closing.length || scope.stored)) await commitClosing(ctx, async () => {});
}

/**
 * The message ends without its close (an error): stored values are left unindexed, as after a
 * crash (their job's position was not saved either), and the owner's stores go on.
 */
export function abandonClosing(ctx: AppContext): void {
  const scope = scopes.get(ctx);
  if (!scope) return;
  scope.closing.splice(0);
  scope.stored?.pending.abandon();
  scope.stored = scope.opening = undefined;
}
