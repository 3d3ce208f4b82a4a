import { and, asc, eq, ne, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, policies, policyAssignments } from '../schema';
import { rows, value } from '../sql';
import { prepared } from '../prepared';
import { appliedPolicyId } from './device-list';

export type PolicyRow = typeof policies.$inferSelect;
export type NewPolicy = typeof policies.$inferInsert;
export type AssignmentRow = typeof policyAssignments.$inferSelect;
export type AssignmentKind = AssignmentRow['kind'];

const policyById = prepared((db, v: { id: string }) =>
  db.select().from(policies).where(eq(policies.id, v.id)).limit(1),
);

export async function getPolicy(db: Db, id: string): Promise<PolicyRow | undefined> {
  return (await policyById(db, { id }))[0];
}

const defaultPolicy = prepared((db) => db.select().from(policies).where(eq(policies.isDefault, true)).limit(1));

export async function getDefaultPolicy(db: Db): Promise<PolicyRow | undefined> {
  return (await defaultPolicy(db, {}))[0];
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
  return (await assignment(db, { kind, key }))[0];
}

const assignment = prepared((db, v: { kind: AssignmentKind; key: string }) =>
  db
    .select()
    .from(policyAssignments)
    .where(and(eq(policyAssignments.kind, v.kind), eq(policyAssignments.key, v.key)))
    .limit(1),
);

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

/** Every manufacturer and model some handset reports ("Nimbus Mobile", "N1"), in order. */
export async function handsetModels(db: Db): Promise<Array<{ manufacturer: string; model: string }>> {
  return db
    .select({ manufacturer: sql<string>`${devices.manufacturer}`, model: sql<string>`${devices.model}` })
    .from(devices)
    .where(sql`${devices.manufacturer} is not null and ${devices.model} is not null`)
    .groupBy(devices.manufacturer, devices.model)
    .orderBy(devices.manufacturer, devices.model);
}

export interface PreviewCandidate {
  id: string;
  devId: string;
  manufacturer: string | null;
  model: string | null;
  policyId: string | null;
  createdAt: number;
  lastSeenAt: number | null;
  lastCompleteAt: number | null;
}

const CANDIDATE = sql`select d.id, d.dev_id as "devId", d.manufacturer, d.model, d.policy_id as "policyId",
  d.created_at as "createdAt", d.last_seen_at as "lastSeenAt",
  (select max(s.completed_at) from snapshots s where s.device_id = d.id and s.status = 'complete') as "lastCompleteAt"
  from devices d`;

function candidate(r: PreviewCandidate): PreviewCandidate {
  return {
    ...r,
    createdAt: Number(r.createdAt),
    lastSeenAt: r.lastSeenAt === null ? null : Number(r.lastSeenAt),
    lastCompleteAt: r.lastCompleteAt === null ? null : Number(r.lastCompleteAt),
  };
}

/**
 * The devices a policy applies to now (device-list.ts `appliedPolicyId`: their own, their
 * group's, their model's or the default), most recently seen first.
 */
export async function previewCandidates(db: Db, policyId: string, limit: number): Promise<PreviewCandidate[]> {
  const applied = await appliedPolicyId(db, Date.now());
  const r = await rows<PreviewCandidate>(
    db,
    sql`${CANDIDATE} where ${applied} = ${policyId}
      order by case when d.last_seen_at is null then 1 else 0 end, d.last_seen_at desc, d.id limit ${limit}`,
  );
  return r.map(candidate);
}

export async function previewCandidateByDevId(db: Db, devId: string): Promise<PreviewCandidate | undefined> {
  const r = await rows<PreviewCandidate>(db, sql`${CANDIDATE} where d.dev_id = ${devId}`);
  return r[0] && candidate(r[0]);
}

/** How many handsets each policy applies to now, by policy id. */
export async function policyHandsetCounts(db: Db): Promise<Map<string, number>> {
  const applied = await appliedPolicyId(db, Date.now());
  const r = await rows<{ policyId: string | null; n: number }>(
    db,
    sql`select t.p as "policyId", count(*) as n from (select ${applied} as p from devices d) t group by t.p`,
  );
  return new Map(r.filter((x) => x.policyId !== null).map((x) => [x.policyId!, Number(x.n)]));
}

/** How many handsets have this policy as their own. */
export async function countOwnPolicy(db: Db, policyId: string): Promise<number> {
  return Number((await value<number>(db, sql`select count(*) from devices where policy_id = ${policyId}`)) ?? 0);
}

/**
 * Deletes a policy: its assignments go with it (the foreign key cascades), and the handsets
 * that had it as their own lose it (they fall back to their group's, model's or the default).
 */
export async function deletePolicy(db: Db, id: string): Promise<PolicyRow | undefined> {
  return db.transaction(async (tx) => {
    await tx.update(devices).set({ policyId: null }).where(eq(devices.policyId, id));
    await tx.delete(policyAssignments).where(eq(policyAssignments.policyId, id));
    return (await tx.delete(policies).where(eq(policies.id, id)).returning())[0];
  });
}
