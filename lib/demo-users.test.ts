import { describe, expect, it } from 'vitest';
import { openDb } from '@/db/client';
import { subscribers } from '@/db/schema';
import { countUsers, getUserByEmail } from '@/db/queries/users';
import { authenticate } from './auth/users';
import { DEMO_USERS, ensureDemoUsers } from './demo';

describe('demo users', () => {
  it('creates the missing demo users once, the subscriber one for the given subscriber', async () => {
    const db = openDb(':memory:');
    const sub = db.insert(subscribers).values({ name: 'Subscriber 000001' }).returning().get();
    expect(await ensureDemoUsers(db, sub.id)).toEqual(DEMO_USERS);
    expect(await ensureDemoUsers(db, sub.id)).toEqual(DEMO_USERS);
    expect(countUsers(db)).toBe(3);
    expect(getUserByEmail(db, 'subscriber@rewind.test')?.subscriberId).toBe(sub.id);
    for (const u of DEMO_USERS) expect((await authenticate(db, u.email, u.password)).ok).toBe(true);
  });
});
