/**
 * One SQLite connection serves every async flow of a process: a transaction has it to itself
 * (db/client.ts SqliteGate), so concurrent transactions queue, and a statement of another flow
 * waits for the open transaction instead of landing inside it.
 */
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { openDb, schema } from './client';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('SQLite transactions across async flows', () => {
  it('runs transactions begun at the same moment one after the other', async () => {
    const db = openDb(':memory:');
    const order: string[] = [];
    await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        db.transaction(async (tx) => {
          order.push(`${name}:begin`);
          await tx.insert(schema.subscribers).values({ name });
          await tick();
          order.push(`${name}:end`);
        }),
      ),
    );
    expect(order).toEqual(['a:begin', 'a:end', 'b:begin', 'b:end', 'c:begin', 'c:end']);
    expect(await db.select().from(schema.subscribers)).toHaveLength(3);
  });

  it("keeps another flow's statement out of a transaction that rolls back", async () => {
    const db = openDb(':memory:');
    let inside!: () => void;
    const opened = new Promise<void>((r) => {
      inside = r;
    });
    const failing = db.transaction(async (tx) => {
      await tx.insert(schema.subscribers).values({ name: 'rolled back' });
      inside();
      await tick();
      throw new Error('abort');
    });
    await opened;
    // Begun while the transaction is open: it must wait, and survive the rollback.
    const outside = db.insert(schema.subscribers).values({ name: 'kept' });
    await expect(failing).rejects.toThrow('abort');
    await outside;
    expect((await db.select({ name: schema.subscribers.name }).from(schema.subscribers)).map((r) => r.name)).toEqual([
      'kept',
    ]);
  });

  it('refuses a transaction begun on the database from inside another (it must use the handle it was given)', async () => {
    const db = openDb(':memory:');
    await expect(db.transaction(async () => db.transaction(async () => 1))).rejects.toThrow(/inside another/);
    // A savepoint through the handle is fine, and its rollback leaves the outer work.
    await db.transaction(async (tx) => {
      await tx.insert(schema.subscribers).values({ name: 'outer' });
      await tx
        .transaction(async (sp) => {
          await sp.insert(schema.subscribers).values({ name: 'inner' });
          sp.rollback();
        })
        .catch(() => {});
    });
    const names = (
      await db
        .select({ name: schema.subscribers.name })
        .from(schema.subscribers)
        .where(eq(schema.subscribers.name, 'outer'))
    ).map((r) => r.name);
    expect(names).toEqual(['outer']);
    expect(await db.select().from(schema.subscribers)).toHaveLength(1);
  });
});
