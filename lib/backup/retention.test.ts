import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { closeDb, type Db } from '@/db/client';
import { column, exec } from '@/db/sql';
import { testDb } from '@/test/support/db';
import { upsertDevice } from '@/db/queries/devices';
import {
  insertSnapshot,
  listSnapshots,
  recordBlob,
  stageEntry,
  updateSnapshot,
  type SnapshotRow,
} from '@/db/queries/snapshots';
import { FileBlobStore, sha256Hex } from './blob-store';
import { encodeManifest, type ManifestEntry } from './manifest';
import {
  applyRetention,
  dayKey,
  isoWeekKey,
  monthKey,
  parseRetention,
  planRetention,
  type RetentionRules,
} from './retention';
import { verifyAll } from './verify';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);

function snap(id: string, completedIso: string, over: Partial<SnapshotRow> = {}): SnapshotRow {
  const completedAt = at(completedIso);
  return {
    id,
    deviceId: 'd1',
    jobId: null,
    trigger: 'scheduled',
    status: 'complete',
    categories: '["settings"]',
    rootHash: 'f'.repeat(64),
    entries: 1,
    bytes: 1,
    newBytes: 0,
    legalHold: false,
    error: null,
    changeDetection: null,
    changeMarks: null,
    sessionRef: null,
    airBytesUp: null,
    airBytesDown: null,
    airRoundTrips: null,
    digestDefect: null,
    startedAt: completedAt - 60_000,
    completedAt,
    ...over,
  };
}

function incomplete(id: string, startedIso: string, over: Partial<SnapshotRow> = {}): SnapshotRow {
  return snap(id, startedIso, {
    status: 'incomplete',
    rootHash: null,
    completedAt: null,
    startedAt: at(startedIso),
    ...over,
  });
}

const ids = (xs: Array<{ id: string }>) => xs.map((x) => x.id);
const reasonsOf = (plan: ReturnType<typeof planRetention>) =>
  Object.fromEntries(plan.keep.map((k) => [k.id, k.reasons]));

describe('bucket keys (UTC)', () => {
  it('day and month', () => {
    expect(dayKey(at('2024-03-10T23:59:59Z'))).toBe('2024-03-10');
    expect(dayKey(at('2024-03-11T00:00:00Z'))).toBe('2024-03-11');
    expect(monthKey(at('2024-02-29T12:00:00Z'))).toBe('2024-02');
  });

  it('ISO weeks across year ends', () => {
    expect(isoWeekKey(at('2021-01-03T12:00:00Z'))).toBe('2020-W53'); // Sunday
    expect(isoWeekKey(at('2021-01-04T00:00:00Z'))).toBe('2021-W01'); // Monday
    expect(isoWeekKey(at('2024-12-30T08:00:00Z'))).toBe('2025-W01');
    expect(isoWeekKey(at('2008-12-29T00:00:00Z'))).toBe('2009-W01');
    expect(isoWeekKey(at('2010-01-03T23:59:59Z'))).toBe('2009-W53');
    expect(isoWeekKey(at('2024-06-12T00:00:00Z'))).toBe('2024-W24');
  });
});

describe('parseRetention', () => {
  it('reads the policy JSON', () => {
    expect(parseRetention('{}')).toEqual({});
    expect(parseRetention('{"keepLast":3,"daily":7,"weekly":4,"monthly":12}')).toEqual({
      keepLast: 3,
      daily: 7,
      weekly: 4,
      monthly: 12,
    });
  });

  it('rejects bad JSON, unknown keys and counts that are not whole numbers >= 0', () => {
    expect(() => parseRetention('{')).toThrow(/JSON/);
    expect(() => parseRetention('{"keep_last":3}')).toThrow();
    expect(() => parseRetention('{"daily":-1}')).toThrow();
    expect(() => parseRetention('{"daily":1.5}')).toThrow();
    expect(() => parseRetention('{"daily":"7"}')).toThrow();
    expect(() => parseRetention('[]')).toThrow();
  });
});

describe('planRetention', () => {
  const now = at('2024-06-30T12:00:00Z');

  it('keepLast keeps the N newest complete snapshots', () => {
    const all = [
      snap('a', '2024-06-01T10:00:00Z'),
      snap('b', '2024-06-02T10:00:00Z'),
      snap('c', '2024-06-03T10:00:00Z'),
      snap('d', '2024-06-04T10:00:00Z'),
      snap('e', '2024-06-05T10:00:00Z'),
    ];
    const plan = planRetention(all, { keepLast: 3 }, now);
    expect(plan.keep).toEqual([
      { id: 'e', reasons: ['last'] },
      { id: 'd', reasons: ['last'] },
      { id: 'c', reasons: ['last'] },
    ]);
    expect(plan.remove).toEqual([
      { id: 'b', reason: 'not kept by any rule' },
      { id: 'a', reason: 'not kept by any rule' },
    ]);
  });

  it('orders by completion time, as lastCompleteSnapshot does', () => {
    const slow = snap('slow', '2024-06-05T12:00:00Z', { startedAt: at('2024-06-05T08:00:00Z') });
    const quick = snap('quick', '2024-06-05T11:00:00Z', { startedAt: at('2024-06-05T10:59:00Z') });
    expect(ids(planRetention([quick, slow], { keepLast: 1 }, now).keep)).toEqual(['slow']);
  });

  it('daily keeps the newest of each of the last N days that have a snapshot', () => {
    const all = [
      snap('d1-early', '2024-06-01T01:00:00Z'),
      snap('d1-late', '2024-06-01T23:00:00Z'),
      // no snapshot on 06-02 and 06-03: those days do not use up the count
      snap('d4-a', '2024-06-04T00:00:00Z'),
      snap('d4-b', '2024-06-04T12:00:00Z'),
      snap('d4-c', '2024-06-04T23:59:59Z'),
      snap('d5', '2024-06-05T06:00:00Z'),
      snap('d6-a', '2024-06-06T06:00:00Z'),
      snap('d6-b', '2024-06-06T07:00:00Z'),
    ];
    const plan = planRetention(all, { daily: 3 }, now);
    expect(ids(plan.keep)).toEqual(['d6-b', 'd5', 'd4-c']);
    expect(plan.keep.every((k) => k.reasons.join() === 'daily')).toBe(true);
    expect(ids(plan.remove)).toEqual(['d6-a', 'd4-b', 'd4-a', 'd1-late', 'd1-early']);

    expect(ids(planRetention(all, { daily: 10 }, now).keep)).toEqual(['d6-b', 'd5', 'd4-c', 'd1-late']);
  });

  it('days are UTC days', () => {
    // 23:30 and 00:30 UTC are different days even where local time says otherwise.
    const all = [snap('late', '2024-06-01T23:30:00Z'), snap('early', '2024-06-02T00:30:00Z')];
    expect(ids(planRetention(all, { daily: 2 }, now).keep)).toEqual(['early', 'late']);
  });

  it('weekly keeps the newest of each ISO week (Monday to Sunday)', () => {
    const all = [
      snap('w22-mon', '2024-05-27T10:00:00Z'),
      snap('w22-sun', '2024-06-02T10:00:00Z'),
      snap('w23-mon', '2024-06-03T10:00:00Z'),
      snap('w23-wed', '2024-06-05T10:00:00Z'),
      snap('w25-tue', '2024-06-18T10:00:00Z'),
    ];
    const plan = planRetention(all, { weekly: 2 }, now);
    expect(ids(plan.keep)).toEqual(['w25-tue', 'w23-wed']);
    expect(ids(planRetention(all, { weekly: 5 }, now).keep)).toEqual(['w25-tue', 'w23-wed', 'w22-sun']);
  });

  it('weekly across a year end uses the ISO week-year', () => {
    const all = [
      snap('thu', '2020-12-31T10:00:00Z'),
      snap('sun', '2021-01-03T10:00:00Z'),
      snap('mon', '2021-01-04T10:00:00Z'),
    ];
    expect(ids(planRetention(all, { weekly: 2 }, at('2021-01-05T00:00:00Z')).keep)).toEqual(['mon', 'sun']);
  });

  it('monthly keeps the newest of each month', () => {
    const all = [
      snap('jan', '2024-01-31T23:00:00Z'),
      snap('feb-1', '2024-02-01T00:00:00Z'),
      snap('feb-29', '2024-02-29T23:59:00Z'),
      snap('apr', '2024-04-15T00:00:00Z'),
      snap('jun-1', '2024-06-01T00:00:00Z'),
      snap('jun-2', '2024-06-20T00:00:00Z'),
    ];
    const plan = planRetention(all, { monthly: 3 }, now);
    expect(ids(plan.keep)).toEqual(['jun-2', 'apr', 'feb-29']);
    expect(ids(plan.remove)).toEqual(['jun-1', 'feb-1', 'jan']);
  });

  it('rules combine, each on its own, and reasons accumulate', () => {
    const all: SnapshotRow[] = [];
    // One snapshot every 12 hours for 60 days.
    for (let i = 0; i < 120; i++) {
      const t = at('2024-05-01T06:00:00Z') + i * 12 * HOUR;
      all.push(snap(`s${String(i).padStart(3, '0')}`, new Date(t).toISOString()));
    }
    const rules: RetentionRules = { keepLast: 2, daily: 3, weekly: 2, monthly: 2 };
    const plan = planRetention(all, rules, now);
    const r = reasonsOf(plan);
    // s119 is 2024-06-29T18:00Z (Saturday, ISO week 26), the newest.
    expect(r.s119).toEqual(['last', 'daily', 'weekly', 'monthly']);
    expect(r.s118).toEqual(['last']);
    expect(r.s117).toEqual(['daily']); // newest of 06-28
    expect(r.s115).toEqual(['daily']); // newest of 06-27
    // Week 25 ends Sunday 06-23; newest there is 06-23T18:00 = s107.
    expect(r.s107).toEqual(['weekly']);
    // May's newest is 05-31T18:00 = s061.
    expect(r.s061).toEqual(['monthly']);
    expect(plan.keep).toHaveLength(6);
    expect(plan.remove).toHaveLength(114);
  });

  it('legal hold is always kept, whatever the rules and status', () => {
    const all = [
      snap('held-old', '2023-01-01T00:00:00Z', { legalHold: true }),
      snap('old', '2023-02-01T00:00:00Z'),
      incomplete('held-broken', '2023-03-01T00:00:00Z', { legalHold: true }),
      snap('new', '2024-06-29T00:00:00Z'),
    ];
    const plan = planRetention(all, { keepLast: 1 }, now);
    expect(reasonsOf(plan)).toEqual({ new: ['last'], 'held-broken': ['legal hold'], 'held-old': ['legal hold'] });
    expect(plan.remove).toEqual([{ id: 'old', reason: 'not kept by any rule' }]);

    // A held snapshot also counts for the rules like any other.
    const both = planRetention(
      [snap('h', '2024-06-29T00:00:00Z', { legalHold: true }), snap('o', '2024-06-28T00:00:00Z')],
      { keepLast: 1 },
      now,
    );
    expect(both.keep).toEqual([{ id: 'h', reasons: ['legal hold', 'last'] }]);
    expect(ids(both.remove)).toEqual(['o']);
  });

  it('removes incomplete and failed snapshots older than 24 h, keeps younger ones', () => {
    const all = [
      snap('done', '2024-06-20T00:00:00Z'),
      incomplete('stale', new Date(now - DAY - 1).toISOString()),
      incomplete('stale-failed', '2024-06-01T00:00:00Z', { status: 'failed', error: 'timeout' }),
      incomplete('running', new Date(now - DAY + 60_000).toISOString()),
      incomplete('just-failed', new Date(now - HOUR).toISOString(), { status: 'failed' }),
    ];
    const plan = planRetention(all, { keepLast: 1 }, now);
    expect(reasonsOf(plan)).toEqual({ done: ['last'], running: ['in progress'], 'just-failed': ['recent failure'] });
    expect(plan.remove).toEqual([
      { id: 'stale', reason: 'incomplete' },
      { id: 'stale-failed', reason: 'incomplete' },
    ]);
  });

  it('incomplete snapshots do not count for the rules', () => {
    const all = [snap('old', '2024-06-01T00:00:00Z'), incomplete('newer', '2024-06-30T11:00:00Z')];
    const plan = planRetention(all, { keepLast: 1, daily: 1 }, now);
    expect(reasonsOf(plan)).toEqual({ newer: ['in progress'], old: ['last', 'daily'] });
    expect(plan.remove).toEqual([]);
  });

  it('with no rule (or only zero counts) keeps everything', () => {
    const all = [
      snap('a', '2020-01-01T00:00:00Z'),
      snap('b', '2024-06-01T00:00:00Z'),
      incomplete('c', '2020-01-01T00:00:00Z'),
    ];
    for (const rules of [{}, { keepLast: 0, daily: 0, weekly: 0, monthly: 0 }]) {
      const plan = planRetention(all, rules, now);
      expect(plan.remove).toEqual([]);
      expect(ids(plan.keep).sort()).toEqual(['a', 'b', 'c']);
    }
  });

  it('keeps only the newest with a single one-count rule; an empty list plans nothing', () => {
    const all = [snap('a', '2024-06-01T00:00:00Z'), snap('b', '2024-06-02T00:00:00Z')];
    for (const rules of [{ keepLast: 1 }, { daily: 1 }, { weekly: 1 }, { monthly: 1 }]) {
      expect(ids(planRetention(all, rules, now).keep)).toEqual(['b']);
    }
    expect(planRetention([], { keepLast: 1 }, now)).toEqual({ keep: [], remove: [] });
  });

  it('invariants hold for any snapshots and rules', () => {
    const start = at('2023-01-01T00:00:00Z');
    const arbSnap = fc.record({
      offset: fc.integer({ min: 0, max: 540 * DAY }),
      status: fc.constantFrom('complete', 'complete', 'complete', 'incomplete', 'failed') as fc.Arbitrary<
        SnapshotRow['status']
      >,
      legalHold: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    });
    const arbCount = fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined });
    fc.assert(
      fc.property(
        fc.array(arbSnap, { maxLength: 40 }),
        fc.record({ keepLast: arbCount, daily: arbCount, weekly: arbCount, monthly: arbCount }),
        (specs, rawRules) => {
          const rules = Object.fromEntries(
            Object.entries(rawRules).filter(([, v]) => v !== undefined),
          ) as RetentionRules;
          const now = start + 541 * DAY;
          const all = specs.map((s, i) => {
            const t = start + s.offset;
            return s.status === 'complete'
              ? snap(`s${i}`, new Date(t).toISOString(), { legalHold: s.legalHold })
              : incomplete(`s${i}`, new Date(t).toISOString(), { status: s.status, legalHold: s.legalHold });
          });
          const plan = planRetention(all, rules, now);
          const kept = new Set(ids(plan.keep));
          const removed = new Set(ids(plan.remove));
          expect(kept.size + removed.size).toBe(all.length);
          for (const s of all) expect(kept.has(s.id) !== removed.has(s.id)).toBe(true);
          for (const s of all) if (s.legalHold) expect(kept.has(s.id)).toBe(true);
          // The newest complete one; a tie in time goes to the later start, then the greater id (as the planner orders).
          const newest = all
            .filter((s) => s.status === 'complete')
            .sort(
              (a, b) =>
                b.completedAt! - a.completedAt! ||
                b.startedAt - a.startedAt ||
                (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
            )[0];
          if (newest) expect(kept.has(newest.id)).toBe(true);
          for (const s of all) {
            if (s.status !== 'complete' && now - s.startedAt <= DAY) expect(kept.has(s.id)).toBe(true);
          }
          if (!Object.values(rules).some((v) => v! > 0)) {
            expect(removed.size).toBe(0);
            return;
          }
          const completeKept = plan.keep.filter(
            (k) => all.find((s) => s.id === k.id)!.status === 'complete' && !k.reasons.includes('legal hold'),
          );
          const bound = (rules.keepLast ?? 0) + (rules.daily ?? 0) + (rules.weekly ?? 0) + (rules.monthly ?? 0);
          expect(completeKept.length).toBeLessThanOrEqual(bound);
          for (const k of plan.keep) expect(k.reasons.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('applyRetention', () => {
  let dir: string;
  let db: Db;
  let store: FileBlobStore;
  let deviceId: string;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-retention-'));
    db = await testDb();
    store = new FileBlobStore(path.join(dir, 'blobs'));
    deviceId = (
      await upsertDevice(db, {
        devId: 'IMEI:356938035643809',
        serverId: 'rewind',
        clientAuth: 'md5',
        clientUser: 'u',
        clientDerived: 'x',
        serverAuth: 'md5',
        serverDerived: 'y',
      })
    ).id;
  });

  afterEach(async () => {
    await closeDb(db);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const enc = (s: string) => new TextEncoder().encode(s);

  async function putValue(value: string): Promise<string> {
    const bytes = enc(value);
    const { hash } = await store.put(bytes);
    await recordBlob(db, hash, bytes.length);
    return hash;
  }

  async function complete(
    completedIso: string,
    values: Record<string, string>,
    over: Partial<SnapshotRow> = {},
  ): Promise<string> {
    const entries: ManifestEntry[] = [];
    for (const [p, v] of Object.entries(values))
      entries.push({ path: p, category: 'settings', format: 'chr', size: enc(v).length, hash: await putValue(v) });
    const manifest = encodeManifest(entries);
    const { hash: root } = await store.put(manifest);
    await recordBlob(db, root, manifest.length);
    const row = await insertSnapshot(db, { deviceId, trigger: 'scheduled', categories: ['settings'] });
    const completedAt = at(completedIso);
    await updateSnapshot(db, row.id, {
      status: 'complete',
      rootHash: root,
      entries: entries.length,
      startedAt: completedAt - 60_000,
      completedAt,
      ...over,
    });
    return row.id;
  }

  async function staged(startedIso: string, values: Record<string, string>): Promise<string> {
    const row = await insertSnapshot(db, { deviceId, trigger: 'scheduled', categories: ['settings'] });
    await updateSnapshot(db, row.id, { startedAt: at(startedIso) });
    for (const [p, v] of Object.entries(values)) {
      await stageEntry(db, {
        snapshotId: row.id,
        path: p,
        category: 'settings',
        format: 'chr',
        type: null,
        size: enc(v).length,
        hash: await putValue(v),
      });
    }
    return row.id;
  }

  async function storeFiles(): Promise<string[]> {
    const out: string[] = [];
    for await (const h of store.list()) out.push(h);
    return out.sort();
  }

  it('a dry run lists exactly what the real run deletes', async () => {
    const now = at('2024-06-30T12:00:00Z');
    // Two snapshots a day for two weeks; a value that changes daily, one that never does, one per snapshot.
    for (let d = 0; d < 14; d++) {
      for (const h of [6, 18]) {
        const iso = new Date(at('2024-06-16T00:00:00Z') + d * DAY + h * HOUR).toISOString();
        await complete(
          iso,
          { './Settings/Name': 'phone', './Settings/Day': `day ${d}`, './Settings/Stamp': iso },
          { legalHold: d === 1 && h === 6 },
        );
      }
    }
    const stale = await staged('2024-06-20T00:00:00Z', { './Settings/Stale': 'left by a crash' });
    const running = await staged('2024-06-30T11:00:00Z', { './Settings/Running': 'being written' });
    // Every blob recorded an hour before the GC runs, so the grace period does not hide anything.
    await exec(db, sql`update blobs set created_at = ${Date.now() - HOUR}`);

    const rules = parseRetention('{"keepLast":2,"daily":5,"weekly":2}');
    const beforeRows = (await listSnapshots(db, deviceId)).map((s) => s.id).sort();
    const beforeFiles = await storeFiles();

    const dry = await applyRetention(db, store, deviceId, rules, { dryRun: true, now });
    expect((await listSnapshots(db, deviceId)).map((s) => s.id).sort()).toEqual(beforeRows);
    expect(await storeFiles()).toEqual(beforeFiles);
    expect(dry.remove.length).toBeGreaterThan(10);
    expect(dry.gc.removed).toBeGreaterThan(10);
    expect(dry.remove).toContainEqual({ id: stale, reason: 'incomplete' });
    expect(dry.keep).toContainEqual({ id: running, reasons: ['in progress'] });
    expect(dry.keep.some((k) => k.reasons.includes('legal hold'))).toBe(true);

    const real = await applyRetention(db, store, deviceId, rules, { dryRun: false, now });
    expect(real).toEqual(dry);

    const afterRows = (await listSnapshots(db, deviceId)).map((s) => s.id).sort();
    expect(afterRows).toEqual(ids(dry.keep).sort());
    expect(beforeRows.filter((id) => !afterRows.includes(id)).sort()).toEqual(ids(dry.remove).sort());
    const afterFiles = await storeFiles();
    expect(beforeFiles.filter((h) => !afterFiles.includes(h))).toEqual(dry.gc.hashes);
    const blobRows = await column<string>(db, sql`select hash from blobs order by hash`);
    expect(blobRows).toEqual(afterFiles);
    // What is left restores: every kept complete snapshot verifies.
    const v = await verifyAll(db, store, { deviceId });
    expect(v.ok).toBe(true);
    expect(v.snapshots).toBe(dry.keep.length - 1);
    // The value every snapshot shares survives, as does what the running backup staged;
    // what the stale one staged and the removed snapshots' own values are gone.
    const h = (v: string) => sha256Hex(enc(v));
    expect(afterFiles).toContain(h('phone'));
    expect(afterFiles).toContain(h('being written'));
    expect(dry.gc.hashes).toContain(h('left by a crash'));
    expect(dry.gc.hashes).toContain(h('day 0'));
    expect(afterFiles).toContain(h('day 1')); // the legal hold's

    // Run again: nothing left to do.
    const again = await applyRetention(db, store, deviceId, rules, { dryRun: false, now });
    expect(again.remove).toEqual([]);
    expect(again.gc).toEqual({ removed: 0, bytes: 0, hashes: [] });
  });

  it('with no rules nothing is deleted', async () => {
    await complete('2020-01-01T00:00:00Z', { './a': '1' });
    await complete('2020-01-02T00:00:00Z', { './a': '2' });
    await exec(db, sql`update blobs set created_at = ${Date.now() - HOUR}`);
    const r = await applyRetention(db, store, deviceId, parseRetention('{}'), { dryRun: false });
    expect(r.remove).toEqual([]);
    expect(r.gc.removed).toBe(0);
    expect(await listSnapshots(db, deviceId)).toHaveLength(2);
  });
});
