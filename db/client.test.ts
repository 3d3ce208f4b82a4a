import { describe, expect, it } from 'vitest';
import { openDb, schema } from './client';

describe('openDb', () => {
  it('applies the committed migrations to a fresh database', () => {
    const db = openDb(':memory:');
    db.insert(schema.subscribers).values({ name: 'Ada' }).run();
    expect(db.select().from(schema.subscribers).all()).toHaveLength(1);
  });

  it('enforces foreign keys', () => {
    const db = openDb(':memory:');
    expect(() =>
      db.insert(schema.jobs).values({ deviceId: 'missing', kind: 'x' }).run(),
    ).toThrow(/FOREIGN KEY/);
  });
});
