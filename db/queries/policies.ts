import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, policies, policyAssignments } from '../schema';

export type PolicyRow = typeof policies.$inferSelect;
export type NewPolicy = typeof policies.$inferInsert;
export type AssignmentRow = typeof policyAssignments.$inferSelect;
export type AssignmentKind = AssignmentRow['kind'];

export async function getPolicy(db: Db, id: string): Promise<PolicyRow | undefined> {
  return (await db.select().from(policies).where(eq(policies.id, id)).limit(1))[0];
}

export async function getDefaultPolicy(db: Db): Promise<PolicyRow | undefined> {
  return (await db.select().from(policies).where(eq(policies.isDefault, true)).limit(1))[0];
}

export async function getPolicyByName(db: Db, name: string): Promise<PolicyRow | undefined> {
  return (await db.select().from(policies).where(eq(policies.name, name)).limit(1))[0];
}

export async function listPolicies(db: Db): Promise<PolicyRow[]> {
  return db.select().from(policies).orderBy(policies.name);
}

export async function insertPolicy(db: Db, p: Omit<NewPolicy, 'id' | 'createdAt'>): Promise<PolicyRow> {
  return (await db.insert(policies).values(p).returning())[0]!;
}

/** Inserts a policy unless one of its name exists (another process made it first): undefined then. */
export async function insertPolicyIfAbsent(
  db: Db,
  p: Omit<NewPolicy, 'id' | 'createdAt'>,
): Promise<PolicyRow | undefined> {
  return (await db.insert(policies).values(p).onConflictDoNothing().returning())[0];
}

export async function updatePolicy(db: Db, id: string, patch: Partial<Omit<NewPolicy, 'id'>>): Promise<void> {
  await db.update(policies).set(patch).where(eq(policies.id, id));
}

/** Makes `id` the one default policy (in one transaction, so there is never none or two). */
export async function setDefaultPolicy(db: Db, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(policies)
      .set({ isDefault: false })
      .where(and(eq(policies.isDefault, true), ne(policies.id, id)));
    await tx.update(policies).set({ isDefault: true }).where(eq(policies.id, id));
  });
}

/** The policy assigned to a model ("manufacturer/model") or a device group. */
export async function getAssignment(db: Db, kind: AssignmentKind, key: string): Promise<AssignmentRow | undefined> {
  return (
    await db
      .select()
      .from(policyAssignments)
      .where(and(eq(policyAssignments.kind, kind), eq(policyAssignments.key, key)))
      .limit(1)
  )[0];
}

export async function listAssignments(db: Db): Promise<AssignmentRow[]> {
  return db.select().from(policyAssignments).orderBy(asc(policyAssignments.kind), asc(policyAssignments.key));
}

/** Assigns a policy to a model or group, replacing the one it had. */
export async function setAssignment(
  db: Db,
  kind: AssignmentKind,
  key: string,
  policyId: string,
): Promise<AssignmentRow> {
  return (
    await db
      .insert(policyAssignments)
      .values({ kind, key, policyId })
      .onConflictDoUpdate({
        target: [policyAssignments.kind, policyAssignments.key],
        set: { policyId, createdAt: Date.now() },
      })
      .returning()
  )[0]!;
}

export async function deleteAssignment(db: Db, id: string): Promise<AssignmentRow | undefined> {
  return (await db.delete(policyAssignments).where(eq(policyAssignments.id, id)).returning())[0];
}

/** Puts a device in a group (null: none); the device, or undefined for an unknown DevId. */
export async function setDeviceGroup(
  db: Db,
  devId: string,
  groupName: string | null,
): Promise<{ id: string; devId: string } | undefined> {
  return (
    await db
      .update(devices)
      .set({ groupName })
      .where(eq(devices.devId, devId))
      .returning({ id: devices.id, devId: devices.devId })
  )[0];
}

/** The groups in use and how many devices each has. */
/** Every manufacturer and model some handset reports ("Nimbus Mobile", "N1"), in order. */
export async function handsetModels(db: Db): Promise<Array<{ manufacturer: string; model: string }>> {
  return db
    .select({ manufacturer: sql<string>`${devices.manufacturer}`, model: sql<string>`${devices.model}` })
    .from(devices)
    .where(sql`${devices.manufacturer} is not null and ${devices.model} is not null`)
    .groupBy(devices.manufacturer, devices.model)
    .orderBy(devices.manufacturer, devices.model);
}

export async function deviceGroups(db: Db): Promise<Array<{ name: string; devices: number }>> {
  return db
    .select({ name: sql<string>`${devices.groupName}`, devices: sql<number>`count(*)` })
    .from(devices)
    .where(sql`${devices.groupName} is not null`)
    .groupBy(devices.groupName)
    .orderBy(devices.groupName);
}

export interface PreviewCandidate {
  id: string;
  devId: string;
  manufacturer: string | null;
  model: string | null;
  policyId: string | null;
  groupName: string | null;
  createdAt: number;
  lastSeenAt: number | null;
  lastCompleteAt: number | null;
}

const candidateColumns = {
  id: devices.id,
  devId: devices.devId,
  manufacturer: devices.manufacturer,
  model: devices.model,
  policyId: devices.policyId,
  groupName: devices.groupName,
  createdAt: devices.createdAt,
  lastSeenAt: devices.lastSeenAt,
  // Spelled out: drizzle writes a one-table select's columns unqualified, and "id" here would be the snapshot's.
  lastCompleteAt: sql<
    number | null
  >`(select max(s.completed_at) from snapshots s where s.device_id = "devices"."id" and s.status = 'complete')`,
};

/**
 * Devices a policy may apply to, most recently seen first: its own devices, those of the
 * groups and models it is assigned to, and, for the default policy, any device. Which of
 * them it does apply to is the resolver's answer (lib/backup/policy.ts), not this query's.
 */
export async function previewCandidates(
  db: Db,
  p: { policyId: string; groups: string[]; models: string[]; isDefault: boolean },
  limit: number,
): Promise<PreviewCandidate[]> {
  const q = db.select(candidateColumns).from(devices);
  const where = p.isDefault
    ? undefined
    : sql`(${devices.policyId} = ${p.policyId}
    ${p.groups.length ? sql` or ${inArray(devices.groupName, p.groups)}` : sql``}
    ${
      p.models.length
        ? sql` or (${devices.manufacturer} || '/' || ${devices.model}) in (${sql.join(
            p.models.map((m) => sql`${m}`),
            sql`, `,
          )})`
        : sql``
    })`;
  return (where ? q.where(where) : q)
    .orderBy(sql`${devices.lastSeenAt} is null`, sql`${devices.lastSeenAt} desc`)
    .limit(limit);
}

export async function previewCandidateByDevId(db: Db, devId: string): Promise<PreviewCandidate | undefined> {
  return (await db.select(candidateColumns).from(devices).where(eq(devices.devId, devId)).limit(1))[0];
}
