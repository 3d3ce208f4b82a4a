import { describe, expect, it } from 'vitest';
import { testDb } from '@/test/support/db';
import { schema } from './client';
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
