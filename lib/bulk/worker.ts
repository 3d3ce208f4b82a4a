/**
 * The bulk worker every server process starts (scripts/start.ts): each second it looks for
 * operations whose walk is not over and works the ones whose lease it gets, a page at a time,
 * for a slice of time. The lease (one per operation) keeps two processes off the same
 * operation; a process that stops lets its lease lapse, and another resumes from the cursor.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { activeBulks, getBulk } from '@/db/queries/bulk';
import { acquireLease, releaseLease } from '@/db/queries/leases';
import type { Db } from '@/db/client';
import { log } from '../core/log';
import { BULK_PAGE, workBulkPage } from './bulk';

const HOLDER = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
/** Renewed with every page; a page of 200 handsets takes well under this. */
const LEASE_MS = 60_000;

const leaseName = (id: string) => `bulk:${id}`;

/**
 * One pass: every active operation this holder gets the lease of, worked for up to `sliceMs`
 * each (so one huge order does not starve a small one). How many pages were worked.
 */
export async function runBulkPass(
  db: Db,
  holder = HOLDER,
  opts: { sliceMs?: number; pageSize?: number; now?: () => number } = {},
): Promise<number> {
  const now = opts.now ?? Date.now;
  let pages = 0;
  for (const active of await activeBulks(db)) {
    const until = now() + (opts.sliceMs ?? 2000);
    let state: 'more' | 'finished' | 'stopped' = 'more';
    while (state === 'more' && (await acquireLease(db, leaseName(active.id), holder, LEASE_MS, now()))) {
      // Read again under the lease: another process may have moved the cursor, or someone cancelled.
      const op = await getBulk(db, active.id);
      if (!op || (op.status !== 'queued' && op.status !== 'running')) {
        state = 'stopped';
        break;
      }
      state = await workBulkPage(db, op, opts.pageSize ?? BULK_PAGE);
      pages++;
      if (now() >= until) break;
    }
    if (state !== 'more') await releaseLease(db, leaseName(active.id), holder);
  }
  return pages;
}

/** Runs a pass every `everyMs` until stopped; passes never overlap. Stopping gives the leases back. */
export function startBulkWorker(ctx: { db: Db }, everyMs = 1000, holder = HOLDER): () => Promise<void> {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    running = runBulkPass(ctx.db, holder)
      .catch((err: unknown) => log.error({ err }, 'bulk pass failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };
  timer = setTimeout(tick, everyMs);
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
    for (const op of await activeBulks(ctx.db)) await releaseLease(ctx.db, leaseName(op.id), holder);
  };
}
