'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { deleteAssignment, getPolicy, setAssignment, setDeviceGroup } from '@/db/queries/policies';
import { policyFormSchema, savePolicy } from '@/lib/policies/policies';
import { AppError } from '@/lib/core/errors';
import { authedAction } from '@/lib/server/action';

const PAGE = '/admin/policies';

export const savePolicyAction = authedAction({ roles: ['admin'], schema: policyFormSchema, audit: 'policy.updated' }, async (input, ctx) => {
  const { policy, created, before } = await savePolicy(ctx.db, input);
  await ctx.audit(created ? 'policy.created' : 'policy.updated', {
    details: {
      id: policy.id, name: policy.name, intervalMinutes: policy.intervalMinutes, jitterMinutes: policy.jitterMinutes,
      categories: JSON.parse(policy.categories) as string[], wifiOnly: policy.wifiOnly, roamingAllowed: policy.roamingAllowed,
      retention: JSON.parse(policy.retention) as unknown, isDefault: policy.isDefault,
      ...(before ? { before: { name: before.name, intervalMinutes: before.intervalMinutes, isDefault: before.isDefault } } : {}),
    },
  });
  revalidatePath(PAGE);
  return { id: policy.id, name: policy.name };
});

const assignSchema = z.object({
  kind: z.enum(['model', 'group'], 'Choose a model or a device group.'),
  key: z.string().trim().min(1, 'Name the model or group.').max(130, 'That is too long for a model or group name.'),
  policyId: z.string().min(1, 'Choose a policy.'),
}).refine((a) => a.kind !== 'model' || /^[^/]+\/[^/]+$/.test(a.key), { path: ['key'], message: 'Write a model as Manufacturer/Model, e.g. Nimbus/N1.' });

export const assignPolicyAction = authedAction({ roles: ['admin'], schema: assignSchema, audit: 'policy.assigned' }, async (input, ctx) => {
  const policy = await getPolicy(ctx.db, input.policyId);
  if (!policy) throw AppError.invalid('That policy no longer exists.', { policyId: ['Choose a policy.'] });
  await setAssignment(ctx.db, input.kind, input.key, policy.id);
  await ctx.audit('policy.assigned', { details: { kind: input.kind, key: input.key, policyId: policy.id, policy: policy.name } });
  revalidatePath(PAGE);
  return { key: input.key };
});

export const unassignPolicyAction = authedAction({ roles: ['admin'], schema: z.object({ id: z.string().min(1) }), audit: 'policy.unassigned' }, async (input, ctx) => {
  const gone = await deleteAssignment(ctx.db, input.id);
  if (!gone) throw AppError.invalid('That assignment was already removed.');
  await ctx.audit('policy.unassigned', { details: { kind: gone.kind, key: gone.key, policyId: gone.policyId } });
  revalidatePath(PAGE);
  return { key: gone.key };
});

const groupSchema = z.object({
  devId: z.string().trim().min(1, 'Enter the handset’s DevId, e.g. IMEI:356938035643809.').max(128),
  group: z.string().trim().max(64, 'A group name has at most 64 characters.').transform((g) => g || null),
});

export const setGroupAction = authedAction({ roles: ['admin'], schema: groupSchema, audit: 'device.group-set' }, async (input, ctx) => {
  const d = await setDeviceGroup(ctx.db, input.devId, input.group);
  if (!d) throw AppError.invalid(`There is no handset ${input.devId}.`, { devId: ['No handset has this DevId.'] });
  await ctx.audit('device.group-set', { deviceId: d.id, details: { devId: d.devId, group: input.group } });
  revalidatePath(PAGE);
  return { devId: d.devId, group: input.group };
});
