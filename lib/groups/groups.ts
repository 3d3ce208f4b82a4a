/**
 * Device groups: a rule over the fleet (model, firmware range, MSISDN prefix, last seen,
 * coverage) evaluated live whenever it is read, or a static list of handsets imported from CSV.
 * Policies are assigned to groups (lib/policies); a handset in several groups with policies
 * follows the first by priority (lib/backup/policy.ts). Every change here is audited by the
 * function that makes it, so the console, the API and the CLI audit alike.
 */
import type { Db } from '@/db/client';
import { insertAudit } from '@/db/queries/audit';
import { countDevices, groupMembership } from '@/db/queries/device-list';
import {
  addGroupMembers,
  deleteGroup as deleteGroupRow,
  devicesByIdentifier,
  getGroupByName,
  insertGroup,
  listGroups,
  removeFromStaticGroups,
  removeGroupMembers,
  updateGroup as updateGroupRow,
  groupDeviceIds,
  type GroupRow,
} from '@/db/queries/groups';
import { getDeviceByDevId } from '@/db/queries/devices';
import { handsetModels, listAssignments, listPolicies } from '@/db/queries/policies';
import { listModels } from '@/db/queries/profiles';
import { AppError } from '@/lib/core/errors';
import { parseCsv } from '@/lib/devices/import';
import { COVERAGE_WORDS, type GroupRule } from '@/lib/devices/filter';
import type { CreateGroupInput, GroupView, ImportResult, UpdateGroupInput } from './schemas';

const MAX_MEMBERS_PER_IMPORT = 200_000;

function ruleOf(g: GroupRow): GroupRule | null {
  return g.rule ? (JSON.parse(g.rule) as GroupRule) : null;
}

/** The group of that name, or a not-found error naming it. */
export async function groupNamed(db: Db, name: string): Promise<GroupRow> {
  const g = await getGroupByName(db, name);
  if (!g) throw new AppError('not-found', `There is no device group called ${name}.`);
  return g;
}

async function nameFree(db: Db, name: string, except?: string): Promise<void> {
  const clash = await getGroupByName(db, name);
  if (clash && clash.id !== except)
    throw AppError.invalid(`A device group called ${name} already exists.`, { name: ['Another group has this name.'] });
}

/** Creates a rule group or a static group (with its first members from CSV, if given). */
export async function createGroup(
  db: Db,
  input: CreateGroupInput,
  actor: string,
): Promise<{ group: GroupRow; import?: ImportResult }> {
  await nameFree(db, input.name);
  const group = await insertGroup(db, {
    name: input.name,
    kind: input.kind,
    rule: input.kind === 'rule' ? JSON.stringify(input.rule) : null,
    ...(input.priority !== undefined ? { priority: input.priority } : {}),
  });
  await insertAudit(db, {
    actor,
    action: 'group.created',
    details: { id: group.id, name: group.name, kind: group.kind, rule: ruleOf(group), priority: group.priority },
  });
  if (input.kind === 'static' && input.members?.trim())
    return { group, import: await importMembers(db, group.name, input.members, { replace: false }, actor) };
  return { group };
}

/** Renames a group (its policy assignment follows), changes a rule group's rule, or its priority. */
export async function editGroup(db: Db, name: string, patch: UpdateGroupInput, actor: string): Promise<GroupRow> {
  const before = await groupNamed(db, name);
  if (patch.rule && before.kind !== 'rule')
    throw AppError.invalid(`${name} is a static list: it has members, not a rule.`, {
      rule: ['A static group has no rule.'],
    });
  if (patch.name !== undefined) await nameFree(db, patch.name, before.id);
  await updateGroupRow(db, before.id, {
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.rule ? { rule: JSON.stringify(patch.rule) } : {}),
    ...(patch.priority !== undefined ? { priority: patch.priority } : {}),
  });
  const after = (await getGroupByName(db, patch.name ?? name))!;
  await insertAudit(db, {
    actor,
    action: 'group.updated',
    details: {
      id: after.id,
      name: after.name,
      rule: ruleOf(after),
      priority: after.priority,
      before: { name: before.name, rule: ruleOf(before), priority: before.priority },
    },
  });
  return after;
}

/**
 * Deletes a group with its members list; its policy assignment goes with it, so its handsets
 * follow their next group's, their model's or the default policy.
 */
export async function deleteGroup(
  db: Db,
  name: string,
  actor: string,
): Promise<{ group: string; policyUnassigned: string | null }> {
  const g = await groupNamed(db, name);
  const gone = await deleteGroupRow(db, g.id);
  if (!gone) throw new AppError('not-found', `There is no device group called ${name}.`);
  const policies = new Map((await listPolicies(db)).map((p) => [p.id, p.name]));
  const policyUnassigned = gone.assignment ? (policies.get(gone.assignment.policyId) ?? null) : null;
  await insertAudit(db, {
    actor,
    action: 'group.deleted',
    details: { id: g.id, name: g.name, kind: g.kind, policyUnassigned },
  });
  return { group: g.name, policyUnassigned };
}

/**
 * The identifiers of a members file: one DevId or IMEI a line, or, when the first line has a
 * `devId` (or `imei`) column, that column of each row after it. Blank ones are skipped.
 */
export function memberIdentifiers(csv: string): string[] {
  const records = parseCsv(csv);
  if (!records.length) return [];
  const header = records[0]!.fields.map((f) => f.trim().toLowerCase());
  const col = header.findIndex((h) => h === 'devid' || h === 'imei');
  const values = col >= 0 ? records.slice(1).map((r) => r.fields[col] ?? '') : records.map((r) => r.fields[0] ?? '');
  return [...new Set(values.map((v) => v.trim()).filter((v) => v !== ''))];
}

/**
 * Imports a static group's members from CSV (memberIdentifiers): added to those there, or
 * replacing them. Identifiers that name no handset are reported, not fatal.
 */
export async function importMembers(
  db: Db,
  name: string,
  csv: string,
  opts: { replace?: boolean },
  actor: string,
): Promise<ImportResult> {
  const g = await staticGroup(db, name);
  const ids = memberIdentifiers(csv);
  if (ids.length > MAX_MEMBERS_PER_IMPORT)
    throw AppError.invalid(`The file names more than ${MAX_MEMBERS_PER_IMPORT} handsets; split it.`);
  const found = await devicesByIdentifier(db, ids);
  const unknown = ids.filter((x) => !found.has(x));
  const wanted = [...new Set(found.values())];
  let removed = 0;
  if (opts.replace) {
    const keep = new Set(wanted);
    const now = Date.now();
    const out = (await groupDeviceIds(db, g, now)).filter((id) => !keep.has(id));
    removed = await removeGroupMembers(db, g.id, out);
  }
  const added = await addGroupMembers(db, g.id, wanted);
  const members = await countDevices(db, groupMembership(g, Date.now()));
  await insertAudit(db, {
    actor,
    action: 'group.members-imported',
    details: { id: g.id, name: g.name, added, removed, members, unknown: unknown.length, replace: !!opts.replace },
  });
  return { group: g.name, added, removed, members, unknown };
}

/** A static group's members from CSV, creating the group when there is none of that name. */
export async function importGroup(
  db: Db,
  input: { name: string; csv: string; replace?: boolean; priority?: number },
  actor: string,
): Promise<ImportResult> {
  if (await getGroupByName(db, input.name))
    return importMembers(db, input.name, input.csv, { replace: !!input.replace }, actor);
  const made = await createGroup(
    db,
    {
      kind: 'static',
      name: input.name,
      members: input.csv,
      ...(input.priority !== undefined ? { priority: input.priority } : {}),
    },
    actor,
  );
  return made.import ?? { group: made.group.name, added: 0, removed: 0, members: 0, unknown: [] };
}

async function staticGroup(db: Db, name: string): Promise<GroupRow> {
  const g = await groupNamed(db, name);
  if (g.kind !== 'static')
    throw AppError.invalid(`${name} is a rule group: its handsets are those its rule matches, not a list.`);
  return g;
}

/** Adds handsets (by DevId or IMEI) to a static group; unknown ones are reported. */
export async function addMembers(db: Db, name: string, devIds: readonly string[], actor: string) {
  return changeMembers(db, name, devIds, 'add', actor);
}

/** Takes handsets (by DevId or IMEI) out of a static group. */
export async function removeMembers(db: Db, name: string, devIds: readonly string[], actor: string) {
  return changeMembers(db, name, devIds, 'remove', actor);
}

async function changeMembers(
  db: Db,
  name: string,
  devIds: readonly string[],
  op: 'add' | 'remove',
  actor: string,
): Promise<{ group: string; changed: number; unknown: string[] }> {
  const g = await staticGroup(db, name);
  const found = await devicesByIdentifier(db, devIds);
  const unknown = devIds.filter((x) => !found.has(x));
  const ids = [...new Set(found.values())];
  const changed = op === 'add' ? await addGroupMembers(db, g.id, ids) : await removeGroupMembers(db, g.id, ids);
  await insertAudit(db, {
    actor,
    action: op === 'add' ? 'group.members-added' : 'group.members-removed',
    details: { id: g.id, name: g.name, changed, devIds: devIds.slice(0, 100), unknown: unknown.length },
  });
  return { group: g.name, changed, unknown };
}

/**
 * Puts one handset in a static group (created when it does not exist yet), or with null takes
 * it out of every static group: the one-handset form of membership the policies page and
 * `rewind device` had before groups were lists and rules.
 */
export async function setHandsetGroup(
  db: Db,
  input: { devId: string; group: string | null },
  actor: string,
): Promise<{ devId: string }> {
  const d = await getDeviceByDevId(db, input.devId);
  if (!d) throw AppError.invalid(`There is no handset ${input.devId}.`, { devId: ['No handset has this DevId.'] });
  if (input.group === null) {
    await removeFromStaticGroups(db, d.id);
  } else {
    const g =
      (await getGroupByName(db, input.group)) ??
      (await insertGroup(db, { name: input.group, kind: 'static', rule: null }));
    if (g.kind !== 'static')
      throw AppError.invalid(`${g.name} is a rule group: a handset is in it when its rule matches.`, {
        group: ['Choose a static group.'],
      });
    await addGroupMembers(db, g.id, [d.id]);
  }
  await insertAudit(db, {
    actor,
    action: 'device.group-set',
    deviceId: d.id,
    details: { devId: d.devId, group: input.group },
  });
  return { devId: d.devId };
}

/** Every group in priority order with how many handsets it holds now and the policy assigned to it. */
export async function listGroupViews(db: Db, now = Date.now()): Promise<GroupView[]> {
  const policies = new Map((await listPolicies(db)).map((p) => [p.id, p]));
  const assigned = new Map(
    (await listAssignments(db)).filter((a) => a.kind === 'group').map((a) => [a.key, policies.get(a.policyId)]),
  );
  const out: GroupView[] = [];
  for (const g of await listGroups(db)) {
    const p = assigned.get(g.name);
    out.push({
      id: g.id,
      name: g.name,
      kind: g.kind,
      rule: ruleOf(g),
      priority: g.priority,
      matches: await countDevices(db, groupMembership(g, now)),
      policy: p ? { id: p.id, name: p.name } : null,
      createdAt: g.createdAt,
    });
  }
  return out;
}

/**
 * The models a policy or a rule can name, as "Manufacturer/Model": those with a backup profile
 * and those some handset reports. Any other name would match no handset.
 */
export async function knownModels(db: Db): Promise<string[]> {
  const names = [...(await listModels(db)), ...(await handsetModels(db))].map((m) => `${m.manufacturer}/${m.model}`);
  return [...new Set(names)].sort((a, b) => a.localeCompare(b));
}

/** Everything the groups page shows: the groups with their counts and policies, the models a rule can name. */
export async function groupsPage(db: Db) {
  return { groups: await listGroupViews(db), models: await knownModels(db) };
}

/** One group as the API answers it. */
export async function groupView(db: Db, name: string): Promise<GroupView> {
  const g = await groupNamed(db, name);
  return (await listGroupViews(db)).find((v) => v.id === g.id)!;
}

/** A rule in plain words: "Nimbus N1, firmware 2.0 to 2.9, not seen for 14 days". */
export function describeRule(rule: GroupRule | null): string {
  if (!rule) return 'a list of handsets';
  const parts: string[] = [];
  const model = [rule.manufacturer, rule.model].filter(Boolean).join(' ');
  if (model) parts.push(model);
  if (rule.firmwareFrom && rule.firmwareTo) parts.push(`firmware ${rule.firmwareFrom} to ${rule.firmwareTo}`);
  else if (rule.firmwareFrom) parts.push(`firmware ${rule.firmwareFrom} or later`);
  else if (rule.firmwareTo) parts.push(`firmware up to ${rule.firmwareTo}`);
  if (rule.msisdnPrefix) parts.push(`number starting +${rule.msisdnPrefix}`);
  if (rule.seenWithinDays !== undefined) parts.push(`seen within ${rule.seenWithinDays} days`);
  if (rule.notSeenForDays !== undefined) parts.push(`not seen for ${rule.notSeenForDays} days`);
  if (rule.coverage) parts.push(COVERAGE_WORDS[rule.coverage].toLowerCase());
  return parts.join(', ');
}
