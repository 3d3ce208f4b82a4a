/**
 * Queries prepared once per database (db/prepared.ts) answer as the builders they replace:
 * the same rows and shapes, on the database and inside its transactions (SQLite: one
 * connection, so the query prepared on the root serves a transaction too), and wait like
 * any statement while another flow's transaction is open. Runs on PostgreSQL too.
 */
import { describe, expect, it } from 'vitest';
import { and, eq, sql } from 'drizzle-orm';
import { isPg, schema, sqliteSession } from './client';
import { prepared, preparedByShape, preparedRows, preparedSql } from './prepared';
import { rows } from './sql';
import { testDb } from '@/test/support/db';

const { devices, jobs } = schema;
const tick = () => new Promise((r) => setTimeout(r, 5));

const deviceByDevId = prepared((db, v: { devId: string }) =>
  db.select().from(devices).where(eq(devices.devId, v.devId)).limit(1),
);
const setDevice = preparedByShape(
  (db, v: { id: string; model?: string | null; lastSeenAt?: number | null; encoding?: 'xml' | 'wbxml' }) => {
    const { id, ...set } = v;
    return db.update(devices).set(set).where(eq(devices.id, id)).returning({ id: devices.id, model: devices.model });
  },
);
const jobFlags = prepared((db, v: { id: string; status: 'running' }) =>
  db
    .update(jobs)
    .set({ status: v.status })
    .where(and(eq(jobs.id, v.id), eq(jobs.wakePending, true))),
);
const modelOf = preparedSql((v: { devId: string }) => sql`select model from devices where dev_id = ${v.devId}`);
const insertTerms = preparedRows(
  sql`insert into search_terms (term, subscriber_id) values`,
  (v: { term: string; subscriberId: string }) => sql`(${v.term}, ${v.subscriberId})`,
  sql`on conflict do nothing returning term`,
);

async function withDevice() {
  const db = await testDb();
  const [d] = await db
    .insert(devices)
    .values({
      devId: 'IMEI:1',
      manufacturer: 'Acme',
      model: 'One',
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: 'u',
      clientDerived: 'd',
      serverAuth: 'md5',
      serverDerived: 'd',
    })
    .returning();
  return { db, d: d! };
}

describe('prepared queries', () => {
  it('read the rows the builder reads, of the same shape', async () => {
    const { db } = await withDevice();
    const built = await db.select().from(devices).where(eq(devices.devId, 'IMEI:1')).limit(1);
    expect(await deviceByDevId(db, { devId: 'IMEI:1' })).toEqual(built);
    expect(await deviceByDevId(db, { devId: 'IMEI:1' })).toEqual(built);
    expect(await deviceByDevId(db, { devId: 'IMEI:2' })).toEqual([]);
    expect(sqliteSession(db) === undefined).toBe(isPg(db));
  });

  it('update the columns given, one statement per set of them', async () => {
    const { db, d } = await withDevice();
    expect(await setDevice(db, { id: d.id, model: 'Two' })).toEqual([{ id: d.id, model: 'Two' }]);
    expect(await setDevice(db, { id: d.id, lastSeenAt: 5, encoding: 'wbxml', model: undefined })).toEqual([
      { id: d.id, model: 'Two' },
    ]);
    expect(await setDevice(db, { id: d.id, model: null })).toEqual([{ id: d.id, model: null }]);
    const [row] = await deviceByDevId(db, { devId: 'IMEI:1' });
    expect(row).toMatchObject({ model: null, lastSeenAt: 5, encoding: 'wbxml' });
  });

  it("apply a column's encoder to a value it sets, and take conditions' constants as built", async () => {
    const { db, d } = await withDevice();
    const [job] = await db
      .insert(jobs)
      .values({ deviceId: d.id, kind: 'backup', payload: '{}', wakePending: true })
      .returning();
    await jobFlags(db, { id: job!.id, status: 'running' });
    expect((await db.select().from(jobs).where(eq(jobs.id, job!.id)))[0]).toMatchObject({
      status: 'running',
      wakePending: true,
    });
  });

  it("run inside a transaction, and roll back with it, whichever handle they're given", async () => {
    const { db, d } = await withDevice();
    await expect(
      db.transaction(async (tx) => {
        await setDevice(tx, { id: d.id, model: 'In tx' });
        expect((await deviceByDevId(tx, { devId: 'IMEI:1' }))[0]?.model).toBe('In tx');
        expect(await modelOf.rows(tx, { devId: 'IMEI:1' })).toEqual([{ model: 'In tx' }]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await deviceByDevId(db, { devId: 'IMEI:1' }))[0]?.model).toBe('One');
  });

  it("wait, from another flow, for an open transaction to end (SQLite's gate)", async () => {
    const { db, d } = await withDevice();
    let inside!: () => void;
    const opened = new Promise<void>((r) => {
      inside = r;
    });
    const tx = db.transaction(async (t) => {
      await setDevice(t, { id: d.id, model: 'Committed' });
      inside();
      await tick();
      await tick();
    });
    await opened;
    // Another flow: on SQLite it waits for the commit; on PostgreSQL it reads the last committed row.
    const seen = (await deviceByDevId(db, { devId: 'IMEI:1' }))[0]?.model;
    expect(seen).toBe(isPg(db) ? 'One' : 'Committed');
    await tx;
  });

  it('run raw and multi-row statements, rows of every count', async () => {
    const { db } = await withDevice();
    expect(await modelOf.rows(db, { devId: 'IMEI:1' })).toEqual([{ model: 'One' }]);
    expect(await modelOf.exec(db, { devId: 'nobody' })).toBe(0);
    const [s] = await db.insert(schema.subscribers).values({ name: 'Ann' }).returning();
    for (const [round, n] of [1, 3, 2, 3].entries()) {
      const items = Array.from({ length: n }, (_, i) => ({ term: `t${round}-${i}`, subscriberId: s!.id }));
      const back = await insertTerms.rows<{ term: string }>(db, items);
      expect(back.map((r) => r.term).sort()).toEqual(items.map((i) => i.term).sort());
      expect(await insertTerms.exec(db, items)).toBe(0);
    }
    expect(await rows(db, sql`select count(*) as n from search_terms`)).toEqual([{ n: 9 }]);
  });
});
