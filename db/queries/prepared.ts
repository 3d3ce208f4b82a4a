/**
 * Statements on the DM endpoint's path, prepared once per connection: building the SQL
 * of a query anew for every message cost more than running it.
 */
import { and, asc, desc, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, dmSessions, jobs, snapshots } from '../schema';

/** A queued job whose dependency (if any) has succeeded. */
const dependencyMet = or(isNull(jobs.dependsOn), sql`exists (select 1 from jobs d where d.id = ${jobs.dependsOn} and d.status = 'succeeded')`);

function runnable(db: Db, ignoreBackoff: boolean) {
  const now = sql.placeholder('now');
  const due = ignoreBackoff
    ? or(isNull(jobs.notBefore), lte(jobs.notBefore, now), sql`${jobs.attempts} > 0`)
    : or(isNull(jobs.notBefore), lte(jobs.notBefore, now));
  return db.select().from(jobs)
    .where(and(eq(jobs.deviceId, sql.placeholder('deviceId')), eq(jobs.status, 'queued'), due, dependencyMet))
    .orderBy(asc(jobs.createdAt)).prepare();
}

function build(db: Db) {
  return {
    deviceByDevId: db.select().from(devices).where(eq(devices.devId, sql.placeholder('devId'))).prepare(),
    activeSession: db.select().from(dmSessions).where(and(
      eq(dmSessions.deviceId, sql.placeholder('deviceId')), eq(dmSessions.sessionId, sql.placeholder('sessionId')), eq(dmSessions.status, 'active'),
    )).prepare(),
    sessionById: db.select().from(dmSessions).where(eq(dmSessions.id, sql.placeholder('id'))).prepare(),
    // Every column drizzle would default on the JS side is given: a prepared statement would
    // otherwise carry the one value computed when it was built.
    insertSession: db.insert(dmSessions).values({
      id: sql.placeholder('id'), deviceId: sql.placeholder('deviceId'), sessionId: sql.placeholder('sessionId'),
      state: sql.placeholder('state'), createdAt: sql.placeholder('now'), updatedAt: sql.placeholder('now'),
    }).returning().prepare(),
    deviceById: db.select().from(devices).where(eq(devices.id, sql.placeholder('id'))).prepare(),
    // What every DM message may change on its device; a null leaves the column as it is.
    deviceAfterMessage: db.update(devices).set({
      lastSeenAt: sql`coalesce(${sql.placeholder('lastSeenAt')}, ${devices.lastSeenAt})`,
      encoding: sql`coalesce(${sql.placeholder('encoding')}, ${devices.encoding})`,
      clientNonce: sql`coalesce(${sql.placeholder('clientNonce')}, ${devices.clientNonce})`,
      serverNonce: sql`coalesce(${sql.placeholder('serverNonce')}, ${devices.serverNonce})`,
    }).where(eq(devices.id, sql.placeholder('id'))).prepare(),
    // The job queries every session makes (dm-work.ts): what it resumes, starts and ends.
    jobById: db.select().from(jobs).where(eq(jobs.id, sql.placeholder('id'))).prepare(),
    runnableJobs: runnable(db, false),
    runnableJobsIgnoringBackoff: runnable(db, true),
    jobsInSession: db.select().from(jobs).where(and(eq(jobs.sessionRef, sql.placeholder('sessionRef')), eq(jobs.status, 'running'))).prepare(),
    runningElsewhere: db.select().from(jobs).where(and(
      eq(jobs.deviceId, sql.placeholder('deviceId')), eq(jobs.status, 'running'), sql`coalesce(${jobs.sessionRef}, '') <> ${sql.placeholder('sessionRef')}`,
    )).prepare(),
    blockedByFailure: db.select().from(jobs).where(and(
      eq(jobs.deviceId, sql.placeholder('deviceId')), eq(jobs.status, 'queued'),
      sql`exists (select 1 from jobs d where d.id = ${jobs.dependsOn} and d.status in ('failed', 'cancelled'))`,
    )).prepare(),
    lastCompleteSnapshot: db.select().from(snapshots)
      .where(and(eq(snapshots.deviceId, sql.placeholder('deviceId')), eq(snapshots.status, 'complete')))
      .orderBy(desc(snapshots.completedAt)).limit(1).prepare(),
    saveSession: db.update(dmSessions).set({
      state: sql`${sql.placeholder('state')}`,
      status: sql`${sql.placeholder('status')}`,
      messages: sql`${dmSessions.messages} + 1`,
      bytesIn: sql`${dmSessions.bytesIn} + ${sql.placeholder('bytesIn')}`,
      bytesOut: sql`${dmSessions.bytesOut} + ${sql.placeholder('bytesOut')}`,
      error: sql`${sql.placeholder('error')}`,
      updatedAt: sql`${sql.placeholder('now')}`,
    }).where(eq(dmSessions.id, sql.placeholder('id'))).prepare(),
  };
}

/**
 * A backup's per-value writes, on the raw connection: one is made for every node of every
 * handset's tree, so even drizzle's run wrapper shows. Same SQL as drizzle builds for them.
 */
function buildStaging(db: Db) {
  return {
    stageEntry: db.$client.prepare(`insert into snapshot_staging (snapshot_id, path, category, format, type, size, hash)
      values (@snapshotId, @path, @category, @format, @type, @size, @hash)
      on conflict (snapshot_id, path) do update set
        category = excluded.category, format = excluded.format, type = excluded.type, size = excluded.size, hash = excluded.hash`),
    // created_at is a drizzle-side default ($defaultFn), so it is given here.
    recordBlob: db.$client.prepare('insert into blobs (hash, size, created_at) values (?, ?, ?) on conflict do nothing'),
  };
}

const stagingCache = new WeakMap<object, ReturnType<typeof buildStaging>>();

/** Keyed by the connection, so a transaction's `tx` (same connection) shares them. */
export function stagingStatements(db: Db): ReturnType<typeof buildStaging> {
  let s = stagingCache.get(db.$client);
  if (!s) {
    s = buildStaging(db);
    stagingCache.set(db.$client, s);
  }
  return s;
}

const cache = new WeakMap<Db, ReturnType<typeof build>>();

export function prepared(db: Db): ReturnType<typeof build> {
  let s = cache.get(db);
  if (!s) {
    s = build(db);
    cache.set(db, s);
  }
  return s;
}
