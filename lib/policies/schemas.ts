/** What the policies API answers: a policy as the API shows it, and what deleting one did. */
import { z } from 'zod';
import { CATEGORIES } from '@/lib/omadm/mo/backup-restore';

export const policySchema = z.object({
  id: z.string(),
  name: z.string(),
  isDefault: z.boolean(),
  categories: z.array(z.enum(CATEGORIES)),
  intervalMinutes: z.number().int().describe('minutes between scheduled backups; 0: never scheduled'),
  jitterMinutes: z.number().int(),
  wifiOnly: z.boolean(),
  roamingAllowed: z.boolean(),
  safetyBackupBeforeUpdates: z
    .boolean()
    .describe('a backup of the handset before a restore writes to it (so it can be undone); default true'),
  verifyEveryBackups: z.number().int(),
  verifyEveryDays: z.number().int(),
  retention: z.object({
    keepLast: z.number().int().optional(),
    daily: z.number().int().optional(),
    weekly: z.number().int().optional(),
    monthly: z.number().int().optional(),
  }),
  handsets: z.number().int().describe('handsets it applies to now (own, group, model or default)'),
});

export const policyDeletionSchema = z.object({
  id: z.string(),
  name: z.string(),
  isDefault: z.boolean(),
  ownHandsets: z.number().int().describe('handsets that had it as their own policy: they fall back now'),
  handsets: z.number().int().describe('handsets it applied to before the deletion'),
  assignments: z
    .array(z.object({ kind: z.enum(['model', 'group']), key: z.string(), matches: z.number().int() }))
    .describe('its assignments, removed'),
});
