'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { createGroup, deleteGroup, editGroup, importGroup } from '@/lib/groups/groups';
import { groupNameSchema, membersCsvSchema, prioritySchema, ruleFormSchema } from '@/lib/groups/schemas';
import { authedAction } from '@/lib/server/action';

const PAGE = '/admin/groups';

function revalidate() {
  revalidatePath(PAGE);
  revalidatePath('/admin/policies');
}

/** A new rule group, or (with `editing`, its current name) a rule group's new name and rule. */
export const saveRuleGroupAction = authedAction(
  {
    roles: ['admin'],
    schema: ruleFormSchema.and(z.object({ editing: z.preprocess((v) => v || undefined, groupNameSchema.optional()) })),
    audit: 'group.updated',
  },
  async (input, ctx) => {
    const { editing, ...f } = input;
    const g = editing
      ? await editGroup(ctx.db, editing, f, ctx.viewer.email)
      : (await createGroup(ctx.db, { kind: 'rule', ...f }, ctx.viewer.email)).group;
    revalidate();
    return { name: g.name };
  },
);

const checkbox = z.preprocess((v) => v === true || v === 'on' || v === 'true', z.boolean());

/** A static group from an uploaded CSV: created when new, its members added or replaced when not. */
export const importGroupAction = authedAction(
  {
    roles: ['admin'],
    schema: z.object({
      name: groupNameSchema,
      csv: membersCsvSchema.min(1, 'Choose the CSV file of DevIds or IMEIs.'),
      replace: checkbox,
      priority: z.preprocess((v) => v || undefined, prioritySchema.optional()),
    }),
    audit: 'group.members-imported',
  },
  async (input, ctx) => {
    const result = await importGroup(ctx.db, input, ctx.viewer.email);
    revalidate();
    return result;
  },
);

export const deleteGroupAction = authedAction(
  { roles: ['admin'], schema: z.object({ name: groupNameSchema }), audit: 'group.deleted' },
  async (input, ctx) => {
    const r = await deleteGroup(ctx.db, input.name, ctx.viewer.email);
    revalidate();
    return r;
  },
);
