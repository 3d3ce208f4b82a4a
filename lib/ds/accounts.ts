/** DS accounts: the credentials a handset's DS client signs in to /ds with, one or more per handset. */
import { z } from 'zod';
import type { Db } from '@/db/client';
import { getDeviceByDevId } from '@/db/queries/devices';
import { getDsAccountByUser, insertDsAccount, updateDsAccount, type DsAccountRow } from '@/db/queries/ds';
import { md5Derived } from '../omadm/auth';
import { ValidationError } from '../devices/devices';

export const dsAccountSchema = z.object({
  devId: z.string().min(1).max(128),
  user: z.string().min(1).max(64).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  pass: z.string().min(4).max(128),
  auth: z.enum(['basic', 'md5']).default('basic'),
});

export type DsAccountInput = z.input<typeof dsAccountSchema>;

/** Creates the account, or gives the handset's existing account of that name a new password. */
export async function addDsAccount(db: Db, input: DsAccountInput): Promise<{ account: DsAccountRow; created: boolean }> {
  const parsed = dsAccountSchema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError('The DS account is not valid.', Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.'), [i.message]])));
  }
  const { devId, user, pass, auth } = parsed.data;
  const device = await getDeviceByDevId(db, devId);
  if (!device) throw new ValidationError(`No handset ${devId} is registered.`, { devId: ['unknown handset'] });
  const derived = md5Derived(user, pass);
  const existing = await getDsAccountByUser(db, user);
  if (existing) {
    if (existing.deviceId !== device.id) throw new ValidationError(`The DS user name ${user} belongs to another handset.`, { user: ['already taken'] });
    await updateDsAccount(db, existing.id, { derived, auth });
    return { account: { ...existing, derived, auth }, created: false };
  }
  return { account: await insertDsAccount(db, { deviceId: device.id, username: user, derived, auth }), created: true };
}
