'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { setHandsetGroup } from '@/lib/groups/groups';
import { assignPolicy, deletePolicyAs, policyFormSchema, savePolicyAs, unassignPolicy } from '@/lib/policies/policies';
import { authedAction } from '@/lib/server/action';

const PAGE = '/admin/policies';

export const savePolicyAction = authedAction(
  { roles: ['admin'], schema: policyFormSchema, audit: 'policy.updated' },
  async (input, ctx) => {
    const { policy } = await savePolicyAs(ctx.db, input, ctx.viewer.email);
    revalidatePath(PAGE);
    return { id: policy.id, name: policy.name };
  },
);

/** The page's one select says both: "model:Nimbus Mobile/N1" or "group:field-staff". */
const splitTarget = (v: unknown) => {
  if (typeof v !== 'object' || v === null) return v;
  const { kind, key } = v as { kind?: unknown; key?: unknown };
  const m = kind === undefined && typeof key === 'string' ? /^(model|group):(.*)$/s.exec(key) : null;
  return m ? { ...v, kind: m[1], key: m[2] } : v;
};

const assignSchema = z.preprocess(
  splitTarget,
  z
    .object({
      kind: z.enum(['model', 'group'], 'Choose a model or a device group.'),
      key: z
        .string()
        .trim()
        .min(1, 'Choose a model or a group.')
        .max(130, 'That is too long for a model or group name.'),
      policyId: z.string().min(1, 'Choose a policy.'),
    })
    .refine((a) => a.kind !== 'model' || /^[^/]+\/[^/]+$/.test(a.key), {
      path: ['key'],
      message: 'Write a model as Manufacturer/Model, e.g. Nimbus/N1.',
    }),
);

export const assignPolicyAction = authedAction(
  { roles: ['admin'], schema: assignSchema, audit: 'policy.assigned' },
  async (input, ctx) => {
    await assignPolicy(ctx.db, input, ctx.viewer.email);
    revalidatePath(PAGE);
    return { key: input.key };
  },
);

export const unassignPolicyAction = authedAction(
  { roles: ['admin'], schema: z.object({ id: z.string().min(1) }), audit: 'policy.unassigned' },
  async (input, ctx) => {
    const gone = await unassignPolicy(ctx.db, input.id, ctx.viewer.email);
    revalidatePath(PAGE);
    return { key: gone.key };
  },
);

export const deletePolicyAction = authedAction(
  { roles: ['admin'], schema: z.object({ id: z.string().min(1).max(64) }), audit: 'policy.deleted' },
  async (input, ctx) => {
    const gone = await deletePolicyAs(ctx.db, input.id, ctx.viewer.email);
    revalidatePath(PAGE);
    return { name: gone.name };
  },
);

const groupSchema = z.object({
  devId: z.string().trim().min(1, 'Enter the handset’s DevId, e.g. IMEI:356938035643809.').max(128),
  group: z
    .string()
    .trim()
    .max(64, 'A group name has at most 64 characters.')
    .transform((g) => g || null),
});

export const setGroupAction = authedAction(
  { roles: ['admin'], schema: groupSchema, audit: 'device.group-set' },
  async (input, ctx) => {
    const d = await setHandsetGroup(ctx.db, input, ctx.viewer.email);
    revalidatePath(PAGE);
    return { devId: d.devId, group: input.group };
  },
);
