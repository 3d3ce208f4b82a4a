/** DS accounts: the credentials a handset's DS client signs in to /ds with, one or more per handset. */
import { z } from 'zod';
import type { Db } from '@/db/client';
import { getDevice, getDeviceByDevId } from '@/db/queries/devices';
import { insertAudit } from '@/db/queries/audit';
import {
  dsAccountsOfDevice,
  getDsAccount,
  getDsAccountByUser,
  insertDsAccount,
  updateDsAccount,
  type DsAccountRow,
} from '@/db/queries/ds';
import { md5Derived } from '../omadm/auth';
import { AppError } from '../core/errors';

export const dsAccountSchema = z.object({
  devId: z.string().min(1).max(128),
  user: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
  pass: z.string().min(4).max(128),
  auth: z.enum(['basic', 'md5']).default('basic'),
});

export type DsAccountInput = z.input<typeof dsAccountSchema>;

/** Creates the account, or gives the handset's existing account of that name a new password. */
export async function addDsAccount(
  db: Db,
  input: DsAccountInput,
): Promise<{ account: DsAccountRow; created: boolean }> {
  const parsed = dsAccountSchema.safeParse(input);
  if (!parsed.success) {
    throw AppError.invalid(
      'The DS account is not valid.',
      Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.'), [i.message]])),
    );
  }
  const { devId, user, pass, auth } = parsed.data;
  const device = await getDeviceByDevId(db, devId);
  if (!device) throw AppError.invalid(`No handset ${devId} is registered.`, { devId: ['unknown handset'] });
  const derived = md5Derived(user, pass);
  const existing = await getDsAccountByUser(db, user);
  if (existing) {
    if (existing.deviceId !== device.id)
      throw AppError.invalid(`The DS user name ${user} belongs to another handset.`, { user: ['already taken'] });
    await updateDsAccount(db, existing.id, { derived, auth });
    return { account: { ...existing, derived, auth }, created: false };
  }
  return { account: await insertDsAccount(db, { deviceId: device.id, username: user, derived, auth }), created: true };
}

/** Whether the handset has a DS account (without one its DS client cannot sync). */
export async function hasDsAccount(db: Db, deviceId: string): Promise<boolean> {
  return (await dsAccountsOfDevice(db, deviceId)).length > 0;
}

/** addDsAccount for a person or token: audited under `actor` as the account created or its password reset. */
export async function addDsAccountAs(
  db: Db,
  input: DsAccountInput,
  actor: string,
): Promise<{ account: DsAccountRow; created: boolean }> {
  const r = await addDsAccount(db, input);
  await insertAudit(db, {
    actor,
    action: r.created ? 'ds-account.created' : 'ds-account.password-reset',
    deviceId: r.account.deviceId,
    details: { user: r.account.username, auth: r.account.auth },
  });
  return r;
}

/** A new password (and, if given, scheme) for an existing account, audited under `actor`; its handset's DS client must be given it too. */
export async function resetDsPassword(
  db: Db,
  input: { id: string; pass: string; auth?: 'basic' | 'md5' },
  actor: string,
): Promise<DsAccountRow> {
  const existing = await getDsAccount(db, input.id);
  const device = existing ? await getDevice(db, existing.deviceId) : undefined;
  if (!existing || !device) throw AppError.invalid('No such DS account.');
  const { account } = await addDsAccount(db, {
    devId: device.devId,
    user: existing.username,
    pass: input.pass,
    auth: input.auth ?? existing.auth,
  });
  await insertAudit(db, {
    actor,
    action: 'ds-account.password-reset',
    deviceId: device.id,
    details: { user: account.username, auth: account.auth },
  });
  return account;
}
