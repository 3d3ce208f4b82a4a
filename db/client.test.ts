import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testDb, testingPg } from '@/test/support/db';
import { closeDb, openDb, schema, sqliteText } from './client';
import { dbErrorCode } from './sql';

describe('openDb', () => {
  it('applies the committed migrations to a fresh database', async () => {
    const db = await testDb();
    await db.insert(schema.subscribers).values({ name: 'Ada' });
    expect(await db.select().from(schema.subscribers)).toHaveLength(1);
  });

  it('enforces foreign keys', async () => {
    const db = await testDb();
    const err = await db
      .insert(schema.jobs)
      .values({ deviceId: 'missing', kind: 'x' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    // SQLite's FOREIGN KEY constraint failed, PostgreSQL's foreign_key_violation.
    expect(dbErrorCode(err)).toMatch(/^(SQLITE_CONSTRAINT_FOREIGNKEY|23503)$/);
  });
});

describe('sqliteText', () => {
  it('gives SQLite a bound LIMIT inside a cast, and leaves every other text as it is', () => {
    expect(sqliteText('select "id" from "jobs" where "jobs"."id" = ? limit ?')).toBe(
      'select "id" from "jobs" where "jobs"."id" = ? limit cast(? as integer)',
    );
    expect(sqliteText('select id from t order by id\n  LIMIT ? offset ?')).toBe(
      'select id from t order by id\n  limit cast(? as integer) offset ?',
    );
    for (const same of ['select "limit" from t where x = ?', 'select * from t limit 5', 'select x_limit ? from t'])
      expect(sqliteText(same)).toBe(same);
  });

  it('answers limits as before', async () => {
    const db = await testDb();
    for (const name of ['a', 'b', 'c']) await db.insert(schema.subscribers).values({ name });
    expect(await db.select().from(schema.subscribers).orderBy(schema.subscribers.name).limit(2)).toMatchObject([
      { name: 'a' },
      { name: 'b' },
    ]);
    expect(
      await db.select().from(schema.subscribers).orderBy(schema.subscribers.name).limit(1).offset(2),
    ).toMatchObject([{ name: 'c' }]);
  });
});

describe.skipIf(testingPg())('another process holding the write lock (SQLite)', () => {
  it('is waited out without blocking the event loop: the transaction and the lone write go through once it ends', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-busy-'));
    const db = openDb(path.join(dir, 'rewind.db'));
    const other = new Database(path.join(dir, 'rewind.db'));
    try {
      other.prepare('begin immediate').run();
      other.prepare("insert into subscribers (id, name, email, created_at) values ('o', 'Other', null, 0)").run();
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      setTimeout(() => other.prepare('commit').run(), 400);
      const started = Date.now();
      await Promise.all([
        db.transaction(async (tx) => {
          await tx.insert(schema.subscribers).values({ name: 'In a transaction' });
        }),
        db.insert(schema.subscribers).values({ name: 'Alone' }),
      ]);
      clearInterval(ticker);
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      // SQLite's own busy wait would have held the event loop for the whole 400 ms.
      expect(ticks).toBeGreaterThanOrEqual(15);
      expect((await db.select().from(schema.subscribers)).map((s) => s.name).sort()).toEqual([
        'Alone',
        'In a transaction',
        'Other',
      ]);
    } finally {
      other.close();
      await closeDb(db);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
