import { describe, expect, it } from 'vitest';
import { testDb } from '@/test/support/db';
import { schema, sqliteText } from './client';
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
