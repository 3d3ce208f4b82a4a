/**
 * Device groups: a rule over the fleet evaluated live, or a static list of handsets. Who is in
 * a group is always the device list's condition (device-list.ts `groupMembership`), so the
 * list, the counts and policy resolution cannot disagree.
 */
import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { deviceGroupMembers, deviceGroups, devices, policyAssignments } from '../schema';
import { column, exec, value } from '../sql';
import { groupMembership } from './device-list';

export { groupsWithPolicies } from './device-list';

export type GroupRow = typeof deviceGroups.$inferSelect;
export type NewGroup = Omit<typeof deviceGroups.$inferInsert, 'id' | 'createdAt'>;

/** Every group in resolution order: lowest priority number first, then by name. */
export async function listGroups(db: Db): Promise<GroupRow[]> {
  return db.select().from(deviceGroups).orderBy(asc(deviceGroups.priority), asc(deviceGroups.name));
}

export async function getGroup(db: Db, id: string): Promise<GroupRow | undefined> {
  return (await db.select().from(deviceGroups).where(eq(deviceGroups.id, id)).limit(1))[0];
}

export async function getGroupByName(db: Db, name: string): Promise<GroupRow | undefined> {
  return (await db.select().from(deviceGroups).where(eq(deviceGroups.name, name)).limit(1))[0];
}

export async function insertGroup(db: Db, g: NewGroup): Promise<GroupRow> {
  return (await db.insert(deviceGroups).values(g).returning())[0]!;
}

/**
 * Changes a group; a new name carries its policy assignment along (assignments name groups by
 * name), in one transaction so the group is never without it.
 */
export async function updateGroup(
  db: Db,
  id: string,
  patch: Partial<Pick<GroupRow, 'name' | 'rule' | 'priority'>>,
): Promise<void> {
  await db.transaction(async (tx) => {
    const before = await getGroup(tx, id);
    if (!before) return;
    await tx.update(deviceGroups).set(patch).where(eq(deviceGroups.id, id));
    if (patch.name !== undefined && patch.name !== before.name)
      await tx
        .update(policyAssignments)
        .set({ key: patch.name })
        .where(sql`${policyAssignments.kind} = 'group' and ${policyAssignments.key} = ${before.name}`);
  });
}

/** Deletes a group, its members and its policy assignment; what was deleted, if anything. */
export async function deleteGroup(
  db: Db,
  id: string,
): Promise<{ group: GroupRow; assignment?: typeof policyAssignments.$inferSelect } | undefined> {
  return db.transaction(async (tx) => {
    const group = (await tx.delete(deviceGroups).where(eq(deviceGroups.id, id)).returning())[0];
    if (!group) return undefined;
    const assignment = (
      await tx
        .delete(policyAssignments)
        .where(sql`${policyAssignments.kind} = 'group' and ${policyAssignments.key} = ${group.name}`)
        .returning()
    )[0];
    return { group, ...(assignment ? { assignment } : {}) };
  });
}

/** Adds handsets to a static group (those already in it stay); how many were new. */
export async function addGroupMembers(db: Db, groupId: string, deviceIds: readonly string[]): Promise<number> {
  let added = 0;
  for (let i = 0; i < deviceIds.length; i += 500) {
    const batch = deviceIds.slice(i, i + 500);
    added += (
      await db
        .insert(deviceGroupMembers)
        .values(batch.map((deviceId) => ({ groupId, deviceId })))
        .onConflictDoNothing()
        .returning({ deviceId: deviceGroupMembers.deviceId })
    ).length;
  }
  return added;
}

/** Takes handsets out of a static group; how many were in it. */
export async function removeGroupMembers(db: Db, groupId: string, deviceIds: readonly string[]): Promise<number> {
  let removed = 0;
  for (let i = 0; i < deviceIds.length; i += 500)
    removed += await exec(
      db,
      sql`delete from device_group_members where group_id = ${groupId} and device_id in (${sql.join(
        deviceIds.slice(i, i + 500).map((d) => sql`${d}`),
        sql`, `,
      )})`,
    );
  return removed;
}

/** Takes a handset out of every static group. */
export async function removeFromStaticGroups(db: Db, deviceId: string): Promise<void> {
  await db.delete(deviceGroupMembers).where(eq(deviceGroupMembers.deviceId, deviceId));
}

/**
 * The handsets of the given DevIds or IMEIs (a bare IMEI finds its `IMEI:` DevId): each
 * identifier given, with the device id it names (absent: no such handset).
 */
export async function devicesByIdentifier(db: Db, identifiers: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let i = 0; i < identifiers.length; i += 500) {
    const batch = identifiers.slice(i, i + 500);
    const wanted = new Map<string, string>();
    for (const x of batch) {
      wanted.set(x, x);
      if (/^\d{14,16}$/.test(x)) wanted.set(`IMEI:${x}`, x);
    }
    const hits = await db
      .select({ id: devices.id, devId: devices.devId })
      .from(devices)
      .where(inArray(devices.devId, [...wanted.keys()]));
    for (const h of hits) found.set(wanted.get(h.devId)!, h.id);
  }
  return found;
}

/** Is this handset in the group now (a member of its list, or matched by its rule)? */
export async function isInGroup(db: Db, group: GroupRow, deviceId: string, now: number): Promise<boolean> {
  const hit = await value(
    db,
    sql`select 1 from devices d where d.id = ${deviceId} and ${groupMembership(group, now)} limit 1`,
  );
  return hit !== undefined;
}

/** The ids of every handset in the group now. */
export async function groupDeviceIds(db: Db, group: GroupRow, now: number): Promise<string[]> {
  return column<string>(db, sql`select d.id from devices d where ${groupMembership(group, now)}`);
}
