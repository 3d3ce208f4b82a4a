import { describe, expect, it } from 'vitest';
import { subscribers } from '@/db/schema';
import { countUsers, getUserByEmail } from '@/db/queries/users';
import { testDb } from '@/test/support/db';
import { authenticate } from '../lib/auth/users';
import { DEMO_USERS, ensureDemoUsers } from './demo';

describe('demo users', () => {
  it('creates the missing demo users once, the subscriber one for the given subscriber', async () => {
    const db = await testDb();
    const [sub] = await db.insert(subscribers).values({ name: 'Subscriber 000001' }).returning();
    expect(await ensureDemoUsers(db, sub!.id)).toEqual(DEMO_USERS);
    expect(await ensureDemoUsers(db, sub!.id)).toEqual(DEMO_USERS);
    expect(await countUsers(db)).toBe(3);
    expect((await getUserByEmail(db, 'subscriber@rewind.test'))?.subscriberId).toBe(sub!.id);
    for (const u of DEMO_USERS) expect((await authenticate(db, u.email, u.password)).ok).toBe(true);
  });
});
