/**
 * The policies page's domain: the form's schema, saving a policy, assigning it, and the
 * preview of when the devices it applies to will next be backed up (the scheduler's own
 * arithmetic, lib/backup/policy.ts).
 */
import { z } from 'zod';
import type { Db } from '@/db/client';
import { insertAudit } from '@/db/queries/audit';
import {
  countOwnPolicy,
  deleteAssignment,
  deletePolicy as deletePolicyRow,
  getPolicy,
  getPolicyByName,
  insertPolicy,
  listAssignments,
  listPolicies,
  previewCandidateByDevId,
  previewCandidates,
  setAssignment,
  policyHandsetCounts,
  setDefaultPolicy,
  updatePolicy,
  type PolicyRow,
  type PreviewCandidate,
} from '@/db/queries/policies';
import { CATEGORIES, type Category } from '@/lib/omadm/mo/backup-restore';
import { AppError } from '@/lib/core/errors';
import {
  ensureDefaultPolicy,
  nextScheduledBackup,
  policyCategories,
  policyResolver,
  resolvePolicy,
  type PolicySource,
} from '@/lib/backup/policy';
import { parseRetention, type RetentionRules } from '@/lib/backup/retention';
import { countDevices, deviceWhere } from '@/db/queries/device-list';
import { getGroupByName } from '@/db/queries/groups';
import { knownModels, listGroupViews } from '@/lib/groups/groups';

export { knownModels };

const UNIT_MINUTES = { minutes: 1, hours: 60, days: 24 * 60 } as const;
export type IntervalUnit = keyof typeof UNIT_MINUTES;

/** A checkbox: present ("on") or absent; a boolean from code. */
const checkbox = z.preprocess((v) => v === true || v === 'on' || v === 'true', z.boolean());
/** A number field: blank is "not set". */
const optionalCount = (label: string) =>
  z.preprocess(
    (v) => (v === '' || v === null || v === undefined ? undefined : Number(v)),
    z
      .number(`${label} must be a number.`)
      .int(`${label} must be a whole number.`)
      .min(0, `${label} cannot be negative.`)
      .max(10_000, `${label} is at most 10000.`)
      .optional(),
  );

export const policyFormSchema = z
  .object({
    id: z
      .string()
      .trim()
      .max(64)
      .optional()
      .transform((v) => v || undefined),
    name: z.string().trim().min(1, 'Give the policy a name.').max(64, 'A name has at most 64 characters.'),
    interval: z.preprocess(
      (v) => Number(v),
      z
        .number('The interval must be a number.')
        .int('The interval must be a whole number.')
        .min(0, 'The interval cannot be negative.')
        .max(1_000_000),
    ),
    intervalUnit: z.enum(['minutes', 'hours', 'days'], 'Choose minutes, hours or days.').default('hours'),
    jitterMinutes: z.preprocess(
      (v) => (v === '' || v === undefined ? 0 : Number(v)),
      z
        .number('The jitter must be a number.')
        .int()
        .min(0, 'The jitter cannot be negative.')
        .max(7 * 24 * 60, 'The jitter is at most a week (10080 minutes).'),
    ),
    categories: z.preprocess(
      (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]),
      z.array(z.enum(CATEGORIES)).min(1, 'Choose at least one category.'),
    ),
    wifiOnly: checkbox,
    roamingAllowed: checkbox,
    // A form's checkbox: absent when unticked (the form ticks it for a new policy, and the column defaults on).
    safetyBackupBeforeUpdates: checkbox,
    // Backups that move only what changed trust the handset's digests; these walk everything
    // now and then and check them (0 turns either off). Absent: the defaults, 10 backups or 7 days.
    verifyEveryBackups: z.preprocess(
      (v) => (v === '' || v === undefined ? 10 : Number(v)),
      z.number('The verification interval must be a number.').int().min(0).max(1000, 'At most every 1000 backups.'),
    ),
    verifyEveryDays: z.preprocess(
      (v) => (v === '' || v === undefined ? 7 : Number(v)),
      z.number('The verification age must be a number.').int().min(0).max(365, 'At most every 365 days.'),
    ),
    keepLast: optionalCount('Keep last'),
    daily: optionalCount('Daily'),
    weekly: optionalCount('Weekly'),
    monthly: optionalCount('Monthly'),
    makeDefault: checkbox,
  })
  .refine((p) => p.interval * UNIT_MINUTES[p.intervalUnit] <= 365 * 24 * 60, {
    path: ['interval'],
    message: 'The interval is at most a year.',
  });

export type PolicyForm = z.output<typeof policyFormSchema>;

/** The interval in the largest unit that writes it exactly (90 minutes stays minutes). */
export function intervalParts(minutes: number): { interval: number; unit: IntervalUnit } {
  if (minutes > 0 && minutes % UNIT_MINUTES.days === 0) return { interval: minutes / UNIT_MINUTES.days, unit: 'days' };
  if (minutes > 0 && minutes % UNIT_MINUTES.hours === 0)
    return { interval: minutes / UNIT_MINUTES.hours, unit: 'hours' };
  return { interval: minutes, unit: 'minutes' };
}

/** "every 2 days", "every 90 minutes", "never scheduled". */
export function describeInterval(minutes: number): string {
  if (minutes <= 0) return 'never scheduled';
  const { interval, unit } = intervalParts(minutes);
  return `every ${interval === 1 ? unit.replace(/s$/, '') : `${interval} ${unit}`}`;
}

/** Creates or updates a policy from the form; a taken name is a field error. */
export async function savePolicy(
  db: Db,
  f: PolicyForm,
): Promise<{ policy: PolicyRow; created: boolean; before?: PolicyRow }> {
  const before = f.id ? await getPolicy(db, f.id) : undefined;
  if (f.id && !before) throw AppError.invalid('That policy no longer exists.');
  const clash = await getPolicyByName(db, f.name);
  if (clash && clash.id !== f.id)
    throw AppError.invalid(`A policy called ${f.name} already exists.`, { name: ['Another policy has this name.'] });
  const retention: RetentionRules = {};
  for (const k of ['keepLast', 'daily', 'weekly', 'monthly'] as const) if (f[k] !== undefined) retention[k] = f[k];
  const values = {
    name: f.name,
    categories: JSON.stringify(CATEGORIES.filter((c) => f.categories.includes(c))),
    intervalMinutes: f.interval * UNIT_MINUTES[f.intervalUnit],
    jitterMinutes: f.jitterMinutes,
    wifiOnly: f.wifiOnly,
    roamingAllowed: f.roamingAllowed,
    safetyBackupBeforeUpdates: f.safetyBackupBeforeUpdates,
    verifyEveryBackups: f.verifyEveryBackups,
    verifyEveryDays: f.verifyEveryDays,
    retention: JSON.stringify(retention),
  };
  let id: string;
  if (before) {
    await updatePolicy(db, before.id, values);
    id = before.id;
  } else {
    id = (await insertPolicy(db, { ...values, isDefault: false })).id;
  }
  if (f.makeDefault) await setDefaultPolicy(db, id);
  return { policy: (await getPolicy(db, id))!, created: !before, ...(before ? { before } : {}) };
}

/** A policy as the page shows and edits it. */
export function policyView(p: PolicyRow) {
  const { interval, unit } = intervalParts(p.intervalMinutes);
  return {
    id: p.id,
    name: p.name,
    isDefault: p.isDefault,
    categories: policyCategories(p) as Category[],
    intervalMinutes: p.intervalMinutes,
    interval,
    intervalUnit: unit,
    every: describeInterval(p.intervalMinutes),
    jitterMinutes: p.jitterMinutes,
    wifiOnly: p.wifiOnly,
    roamingAllowed: p.roamingAllowed,
    safetyBackupBeforeUpdates: p.safetyBackupBeforeUpdates,
    verifyEveryBackups: p.verifyEveryBackups,
    verifyEveryDays: p.verifyEveryDays,
    retention: parseRetention(p.retention),
  };
}
export type PolicyView = ReturnType<typeof policyView>;

export interface NextBackup {
  deviceId: string;
  devId: string;
  manufacturer: string | null;
  model: string | null;
  /** The group whose policy it follows (source 'group'). */
  groupName: string | null;
  policyId: string;
  policyName: string;
  source: PolicySource;
  lastCompleteAt: number | null;
  /** Undefined: the policy schedules no backups. */
  nextAt: number | undefined;
}

function nextBackupOf(c: PreviewCandidate, policy: PolicyRow, source: PolicySource, group?: string): NextBackup {
  return {
    deviceId: c.id,
    devId: c.devId,
    manufacturer: c.manufacturer,
    model: c.model,
    groupName: group ?? null,
    policyId: policy.id,
    policyName: policy.name,
    source,
    lastCompleteAt: c.lastCompleteAt,
    nextAt: nextScheduledBackup(policy, c),
  };
}

/** How many candidate devices a preview reads to find its sample. */
const PREVIEW_SCAN = 500;

/**
 * The next scheduled backup of a sample of the devices `policyId` applies to (the most
 * recently seen first), soonest first.
 */
export async function policyPreview(db: Db, policyId: string, sample = 8): Promise<NextBackup[]> {
  const policy = await getPolicy(db, policyId);
  if (!policy) return [];
  const resolve = await policyResolver(db);
  const candidates = await previewCandidates(db, policyId, PREVIEW_SCAN);
  const out: NextBackup[] = [];
  for (const c of candidates) {
    const r = resolve(c);
    if (r.policy.id !== policyId) continue;
    out.push(nextBackupOf(c, r.policy, r.source, r.group));
    if (out.length >= sample) break;
  }
  return out.sort((a, b) => (a.nextAt ?? Infinity) - (b.nextAt ?? Infinity));
}

/** One handset's policy, where it came from, and its next scheduled backup; undefined for an unknown DevId. */
export async function handsetNextBackup(db: Db, devId: string): Promise<NextBackup | undefined> {
  const c = await previewCandidateByDevId(db, devId);
  if (!c) return undefined;
  const r = await resolvePolicy(db, c);
  return nextBackupOf(c, r.policy, r.source, r.group);
}

/** Every policy as the API answers it, with how many handsets it applies to now. */
export async function policyList(db: Db) {
  await ensureDefaultPolicy(db);
  const counts = await policyHandsetCounts(db);
  return (await listPolicies(db)).map((p) => {
    const v = policyView(p);
    return {
      id: v.id,
      name: v.name,
      isDefault: v.isDefault,
      categories: v.categories,
      intervalMinutes: v.intervalMinutes,
      jitterMinutes: v.jitterMinutes,
      wifiOnly: v.wifiOnly,
      roamingAllowed: v.roamingAllowed,
      safetyBackupBeforeUpdates: v.safetyBackupBeforeUpdates,
      verifyEveryBackups: v.verifyEveryBackups,
      verifyEveryDays: v.verifyEveryDays,
      retention: v.retention,
      handsets: counts.get(p.id) ?? 0,
    };
  });
}

/** A policy by its id or its name (the CLI names them), or a not-found error. */
export async function policyNamed(db: Db, idOrName: string): Promise<PolicyRow> {
  const p = (await getPolicy(db, idOrName)) ?? (await getPolicyByName(db, idOrName));
  if (!p) throw new AppError('not-found', `There is no policy ${idOrName}.`);
  return p;
}

/** Everything the policies page shows, read at one moment (`now`). */
export async function policiesPage(db: Db, q: { edit?: string; creating: boolean; devId?: string }) {
  const fallback = await ensureDefaultPolicy(db);
  const counts = await policyHandsetCounts(db);
  const all = [];
  for (const p of await listPolicies(db))
    all.push({ ...policyView(p), handsets: counts.get(p.id) ?? 0, ownHandsets: await countOwnPolicy(db, p.id) });
  const editing = q.creating ? undefined : (all.find((p) => p.id === q.edit) ?? all.find((p) => p.id === fallback.id)!);
  return {
    now: Date.now(),
    all,
    editing,
    assignments: await assignmentViews(db),
    groups: await listGroupViews(db),
    models: await knownModels(db),
    handset: q.devId ? await handsetNextBackup(db, q.devId) : undefined,
    preview: editing ? await policyPreview(db, editing.id) : [],
  };
}

/** savePolicy for an admin, audited under `actor` as created or updated, with what it was before. */
export async function savePolicyAs(
  db: Db,
  f: PolicyForm,
  actor: string,
): Promise<{ policy: PolicyRow; created: boolean }> {
  const { policy, created, before } = await savePolicy(db, f);
  await insertAudit(db, {
    actor,
    action: created ? 'policy.created' : 'policy.updated',
    details: {
      id: policy.id,
      name: policy.name,
      intervalMinutes: policy.intervalMinutes,
      jitterMinutes: policy.jitterMinutes,
      categories: JSON.parse(policy.categories) as string[],
      wifiOnly: policy.wifiOnly,
      roamingAllowed: policy.roamingAllowed,
      safetyBackupBeforeUpdates: policy.safetyBackupBeforeUpdates,
      verifyEveryBackups: policy.verifyEveryBackups,
      verifyEveryDays: policy.verifyEveryDays,
      retention: JSON.parse(policy.retention) as unknown,
      isDefault: policy.isDefault,
      ...(before
        ? { before: { name: before.name, intervalMinutes: before.intervalMinutes, isDefault: before.isDefault } }
        : {}),
    },
  });
  return { policy, created };
}

/**
 * Applies a policy to a model ("Manufacturer/Model") or a device group, audited under `actor`.
 * A model must be a known one (knownModels): a typo would silently match no handset.
 */
export async function assignPolicy(
  db: Db,
  a: { kind: 'model' | 'group'; key: string; policyId: string },
  actor: string,
): Promise<void> {
  if (a.kind === 'model' && !(await knownModels(db)).includes(a.key))
    throw AppError.invalid(`No handset or backup profile is of the model ${a.key}.`, {
      key: ['Choose one of the known models: no handset is of this one.'],
    });
  if (a.kind === 'group' && !(await getGroupByName(db, a.key)))
    throw AppError.invalid(`There is no device group called ${a.key}.`, { key: ['Choose one of the device groups.'] });
  const policy = await getPolicy(db, a.policyId);
  if (!policy) throw AppError.invalid('That policy no longer exists.', { policyId: ['Choose a policy.'] });
  await setAssignment(db, a.kind, a.key, policy.id);
  await insertAudit(db, {
    actor,
    action: 'policy.assigned',
    details: { kind: a.kind, key: a.key, policyId: policy.id, policy: policy.name },
  });
}

/** Removes an assignment, audited under `actor`; the model or group falls back to the default policy. */
export async function unassignPolicy(db: Db, id: string, actor: string): Promise<{ key: string }> {
  const gone = await deleteAssignment(db, id);
  if (!gone) throw AppError.invalid('That assignment was already removed.');
  await insertAudit(db, {
    actor,
    action: 'policy.unassigned',
    details: { kind: gone.kind, key: gone.key, policyId: gone.policyId },
  });
  return gone;
}

/** Every assignment with how many handsets its model or group holds now. */
export async function assignmentViews(db: Db) {
  const out = [];
  for (const a of await listAssignments(db)) {
    const [manufacturer, model] = a.key.split('/');
    const where = await deviceWhere(db, a.kind === 'group' ? { group: a.key } : { manufacturer, model });
    out.push({ ...a, matches: await countDevices(db, where) });
  }
  return out;
}

/** What deleting a policy would do, for the confirmation and the answer. */
export async function policyDeletionImpact(db: Db, id: string) {
  const policy = await getPolicy(db, id);
  if (!policy) throw new AppError('not-found', 'That policy no longer exists.');
  const assignments = (await assignmentViews(db)).filter((a) => a.policyId === id);
  return {
    id: policy.id,
    name: policy.name,
    isDefault: policy.isDefault,
    ownHandsets: await countOwnPolicy(db, id),
    handsets: (await policyHandsetCounts(db)).get(id) ?? 0,
    assignments: assignments.map((a) => ({ kind: a.kind, key: a.key, matches: a.matches })),
  };
}
export type PolicyDeletionImpact = Awaited<ReturnType<typeof policyDeletionImpact>>;

/**
 * Deletes a policy, audited under `actor`: its assignments are removed and the handsets that
 * had it as their own fall back to their group's, their model's or the default policy. The
 * default policy cannot be deleted (every handset needs one to fall back to).
 */
export async function deletePolicyAs(db: Db, id: string, actor: string): Promise<PolicyDeletionImpact> {
  const impact = await policyDeletionImpact(db, id);
  if (impact.isDefault)
    throw new AppError(
      'conflict',
      `${impact.name} is the default policy and cannot be deleted; make another the default first.`,
    );
  if (!(await deletePolicyRow(db, id))) throw new AppError('not-found', 'That policy no longer exists.');
  await insertAudit(db, {
    actor,
    action: 'policy.deleted',
    details: {
      id,
      name: impact.name,
      ownHandsets: impact.ownHandsets,
      handsets: impact.handsets,
      assignments: impact.assignments.map((a) => ({ kind: a.kind, key: a.key })),
    },
  });
  return impact;
}
