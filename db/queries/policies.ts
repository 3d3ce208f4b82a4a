import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, policies, policyAssignments } from '../schema';

export type PolicyRow = typeof policies.$inferSelect;
export type NewPolicy = typeof policies.$inferInsert;
export type AssignmentRow = typeof policyAssignments.$inferSelect;
export type AssignmentKind = AssignmentRow['kind'];

export function getPolicy(db: Db, id: string): PolicyRow | undefined {
  return db.select().from(policies).where(eq(policies.id, id)).get();
}

export function getDefaultPolicy(db: Db): PolicyRow | undefined {
  return db.select().from(policies).where(eq(policies.isDefault, true)).get();
}

export function getPolicyByName(db: Db, name: string): PolicyRow | undefined {
  return db.select().from(policies).where(eq(policies.name, name)).get();
}

export function listPolicies(db: Db): PolicyRow[] {
  return db.select().from(policies).orderBy(policies.name).all();
}

export function insertPolicy(db: Db, p: Omit<NewPolicy, 'id' | 'createdAt'>): PolicyRow {
  return db.insert(policies).values(p).returning().get();
}

export function updatePolicy(db: Db, id: string, patch: Partial<Omit<NewPolicy, 'id'>>): void {
  db.update(policies).set(patch).where(eq(policies.id, id)).run();
}

/** Makes `id` the one default policy (in one transaction, so there is never none or two). */
export function setDefaultPolicy(db: Db, id: string): void {
  db.transaction((tx) => {
    tx.update(policies).set({ isDefault: false }).where(and(eq(policies.isDefault, true), ne(policies.id, id))).run();
    tx.update(policies).set({ isDefault: true }).where(eq(policies.id, id)).run();
  });
}

/** The policy assigned to a model ("manufacturer/model") or a device group. */
export function getAssignment(db: Db, kind: AssignmentKind, key: string): AssignmentRow | undefined {
  return db.select().from(policyAssignments).where(and(eq(policyAssignments.kind, kind), eq(policyAssignments.key, key))).get();
}

export function listAssignments(db: Db): AssignmentRow[] {
  return db.select().from(policyAssignments).orderBy(asc(policyAssignments.kind), asc(policyAssignments.key)).all();
}

/** Assigns a policy to a model or group, replacing the one it had. */
export function setAssignment(db: Db, kind: AssignmentKind, key: string, policyId: string): AssignmentRow {
  return db.insert(policyAssignments).values({ kind, key, policyId })
    .onConflictDoUpdate({ target: [policyAssignments.kind, policyAssignments.key], set: { policyId, createdAt: Date.now() } })
    .returning().get();
}

export function deleteAssignment(db: Db, id: string): AssignmentRow | undefined {
  return db.delete(policyAssignments).where(eq(policyAssignments.id, id)).returning().get();
}

/** Puts a device in a group (null: none); the device, or undefined for an unknown DevId. */
export function setDeviceGroup(db: Db, devId: string, groupName: string | null): { id: string; devId: string } | undefined {
  return db.update(devices).set({ groupName }).where(eq(devices.devId, devId)).returning({ id: devices.id, devId: devices.devId }).get();
}

/** The groups in use and how many devices each has. */
export function deviceGroups(db: Db): Array<{ name: string; devices: number }> {
  return db.select({ name: sql<string>`${devices.groupName}`, devices: sql<number>`count(*)` }).from(devices)
    .where(sql`${devices.groupName} is not null`).groupBy(devices.groupName).orderBy(devices.groupName).all();
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
  id: devices.id, devId: devices.devId, manufacturer: devices.manufacturer, model: devices.model, policyId: devices.policyId,
  groupName: devices.groupName, createdAt: devices.createdAt, lastSeenAt: devices.lastSeenAt,
  // Spelled out: drizzle writes a one-table select's columns unqualified, and "id" here would be the snapshot's.
  lastCompleteAt: sql<number | null>`(select max(s.completed_at) from snapshots s where s.device_id = "devices"."id" and s.status = 'complete')`,
};

/**
 * Devices a policy may apply to, most recently seen first: its own devices, those of the
 * groups and models it is assigned to, and, for the default policy, any device. Which of
 * them it does apply to is the resolver's answer (lib/backup/policy.ts), not this query's.
 */
export function previewCandidates(db: Db, p: { policyId: string; groups: string[]; models: string[]; isDefault: boolean }, limit: number): PreviewCandidate[] {
  const q = db.select(candidateColumns).from(devices);
  const where = p.isDefault ? undefined : sql`(${devices.policyId} = ${p.policyId}
    ${p.groups.length ? sql` or ${inArray(devices.groupName, p.groups)}` : sql``}
    ${p.models.length ? sql` or (${devices.manufacturer} || '/' || ${devices.model}) in (${sql.join(p.models.map((m) => sql`${m}`), sql`, `)})` : sql``})`;
  return (where ? q.where(where) : q).orderBy(sql`${devices.lastSeenAt} is null`, sql`${devices.lastSeenAt} desc`).limit(limit).all();
}

export function previewCandidateByDevId(db: Db, devId: string): PreviewCandidate | undefined {
  return db.select(candidateColumns).from(devices).where(eq(devices.devId, devId)).get();
}
