/**
 * What the groups API, the console's forms and the CLI accept and answer. A group's rule is
 * the device list's (lib/devices/filter.ts `groupRuleSchema`).
 */
import { z } from 'zod';
import { groupRuleSchema } from '@/lib/devices/filter';

export const GROUP_KINDS = ['rule', 'static'] as const;

export const groupNameSchema = z
  .string()
  .trim()
  .min(1, 'Give the group a name.')
  .max(64, 'A group name has at most 64 characters.')
  .refine((n) => !n.includes('/'), 'A group name cannot contain "/".');

export const prioritySchema = z.coerce
  .number('The priority must be a number.')
  .int('The priority must be a whole number.')
  .min(0, 'The priority cannot be negative.')
  .max(10_000, 'The priority is at most 10000.');

/** A static group's members as CSV: one DevId or IMEI a line, or a file with a `devId` column. */
export const membersCsvSchema = z.string().max(10_000_000, 'The file is larger than 10 MB.');

export const createGroupSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('rule'),
    name: groupNameSchema,
    rule: groupRuleSchema,
    priority: prioritySchema.optional(),
  }),
  z.strictObject({
    kind: z.literal('static'),
    name: groupNameSchema,
    /** Its first members (optional): the CSV an import takes. */
    members: membersCsvSchema.optional(),
    priority: prioritySchema.optional(),
  }),
]);
export type CreateGroupInput = z.output<typeof createGroupSchema>;

export const updateGroupSchema = z.strictObject({
  name: groupNameSchema.optional(),
  /** A rule group's new rule (a static group has none). */
  rule: groupRuleSchema.optional(),
  priority: prioritySchema.optional(),
});
export type UpdateGroupInput = z.output<typeof updateGroupSchema>;

export const importMembersSchema = z.strictObject({
  csv: membersCsvSchema.min(1, 'The file is empty.'),
  /** Replace the members with the file's (default: add them to those there). */
  replace: z.boolean().optional(),
});

export const membersChangeSchema = z.strictObject({
  devIds: z.array(z.string().trim().min(1).max(128)).min(1).max(50_000),
});

export const groupViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(GROUP_KINDS),
  rule: groupRuleSchema.nullable().describe('the rule of a rule group; null for a static list'),
  priority: z.number().int().describe('lower first: a handset in several groups with policies gets the first one’s'),
  matches: z.number().int().describe('handsets in the group now (members, or matched by the rule now)'),
  policy: z.object({ id: z.string(), name: z.string() }).nullable().describe('the policy assigned to the group'),
  createdAt: z.number().int(),
});
export type GroupView = z.output<typeof groupViewSchema>;

export const importResultSchema = z.object({
  group: z.string(),
  added: z.number().int().describe('handsets added to the group'),
  removed: z.number().int().describe('handsets taken out (when replacing)'),
  members: z.number().int().describe('members after the import'),
  unknown: z.array(z.string()).describe('identifiers of the file that name no handset'),
});
export type ImportResult = z.output<typeof importResultSchema>;

export const deleteGroupResultSchema = z.object({
  group: z.string(),
  policyUnassigned: z.string().nullable().describe('the policy that was assigned to the group, now unassigned'),
});

/** A form's blank field is "not set". */
const blank = (v: unknown) => (v === '' || v === null ? undefined : v);

/**
 * The console's rule form: flat fields (the model as "Manufacturer/Model" from the dropdown of
 * known models), blank ones left out of the rule.
 */
export const ruleFormSchema = z
  .object({
    name: groupNameSchema,
    model: z.preprocess(blank, z.string().max(130).optional()),
    firmwareFrom: z.preprocess(blank, z.string().trim().max(200).optional()),
    firmwareTo: z.preprocess(blank, z.string().trim().max(200).optional()),
    msisdnPrefix: z.preprocess(blank, z.string().trim().max(20).optional()),
    seenWithinDays: z.preprocess(blank, z.string().optional()),
    notSeenForDays: z.preprocess(blank, z.string().optional()),
    coverage: z.preprocess(blank, z.string().optional()),
    priority: z.preprocess(blank, prioritySchema.optional()),
  })
  .transform((f, ctx) => {
    const [manufacturer, model] = f.model ? f.model.split('/') : [];
    const rule = groupRuleSchema.safeParse({
      ...(manufacturer ? { manufacturer } : {}),
      ...(model ? { model } : {}),
      ...(f.firmwareFrom ? { firmwareFrom: f.firmwareFrom } : {}),
      ...(f.firmwareTo ? { firmwareTo: f.firmwareTo } : {}),
      ...(f.msisdnPrefix ? { msisdnPrefix: f.msisdnPrefix.replace(/^\+/, '') } : {}),
      ...(f.seenWithinDays ? { seenWithinDays: f.seenWithinDays } : {}),
      ...(f.notSeenForDays ? { notSeenForDays: f.notSeenForDays } : {}),
      ...(f.coverage ? { coverage: f.coverage } : {}),
    });
    if (!rule.success) {
      for (const i of rule.error.issues)
        ctx.addIssue({
          code: 'custom',
          path: i.path.length ? i.path : ['model'],
          message: i.path.length ? i.message : 'Give the rule at least one condition.',
        });
      return z.NEVER;
    }
    return { name: f.name, rule: rule.data, ...(f.priority !== undefined ? { priority: f.priority } : {}) };
  });
