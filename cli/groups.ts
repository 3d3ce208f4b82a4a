/**
 * `rewind group …` and `rewind policy …`: device groups (a rule evaluated live, or a static
 * list from CSV) and backup policies, through the same domain functions as the console and
 * the API (lib/groups, lib/policies), audited as `cli`.
 */
import fs from 'node:fs';
import { getContext } from '../lib/core/context';
import { AppError } from '../lib/core/errors';
import { IMPORT_MAX_BYTES } from '../lib/devices/import';
import { groupRuleSchema } from '../lib/devices/filter';
import { createGroup, deleteGroup, describeRule, importGroup, listGroupViews } from '../lib/groups/groups';
import { prioritySchema } from '../lib/groups/schemas';
import { deletePolicyAs, policyList, policyNamed } from '../lib/policies/policies';
import { positionals } from './args';
import { printJson, table } from './format';
import { required, UsageError, type Command } from './usage';

/** The rule's flags, as `rewind group add` takes them. */
const RULE_FLAGS = {
  manufacturer: 'manufacturer',
  model: 'model',
  'firmware-from': 'firmwareFrom',
  'firmware-to': 'firmwareTo',
  'msisdn-prefix': 'msisdnPrefix',
  'seen-within-days': 'seenWithinDays',
  'not-seen-days': 'notSeenForDays',
  coverage: 'coverage',
} as const;

function priorityOf(v: Record<string, unknown>): number | undefined {
  if (v.priority === undefined) return undefined;
  const r = prioritySchema.safeParse(v.priority);
  if (!r.success) throw new UsageError(`--priority: ${r.error.issues[0]!.message}`);
  return r.data;
}

export const groupAdd: Command = {
  summary: 'add a rule group: handsets matching every condition given, evaluated live',
  usage: `--name N ${Object.keys(RULE_FLAGS)
    .map((f) => `[--${f} V]`)
    .join(' ')} [--priority P]`,
  options: {
    name: { type: 'string' },
    priority: { type: 'string' },
    ...Object.fromEntries(Object.keys(RULE_FLAGS).map((f) => [f, { type: 'string' as const }])),
  },
  async run(v, pos) {
    positionals(pos, []);
    const name = required(v, 'name');
    const raw: Record<string, string> = {};
    for (const [flag, key] of Object.entries(RULE_FLAGS)) if (typeof v[flag] === 'string') raw[key] = v[flag];
    const rule = groupRuleSchema.safeParse(raw);
    if (!rule.success) throw new UsageError(AppError.fromZod(rule.error).message);
    const priority = priorityOf(v);
    const { group } = await createGroup(
      getContext().db,
      { kind: 'rule', name, rule: rule.data, ...(priority !== undefined ? { priority } : {}) },
      'cli',
    );
    const view = (await listGroupViews(getContext().db)).find((g) => g.id === group.id)!;
    console.log(`group ${group.name}: ${describeRule(view.rule)}; ${view.matches} handsets match now`);
  },
};

export const groupImport: Command = {
  summary: "import a static group's members from CSV (DevIds or IMEIs, one a line or a devId column); made when new",
  usage: '--name N --file members.csv [--replace] [--priority P] [--json]',
  options: {
    name: { type: 'string' },
    file: { type: 'string' },
    replace: { type: 'boolean' },
    priority: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(v, pos) {
    positionals(pos, []);
    const name = required(v, 'name');
    const file = required(v, 'file');
    let csv: string;
    try {
      const stat = fs.statSync(file);
      if (!stat.isFile()) throw new UsageError(`${file} is not a file`);
      if (stat.size > IMPORT_MAX_BYTES)
        throw new UsageError(`${file} is larger than ${IMPORT_MAX_BYTES} bytes; split it`);
      csv = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const priority = priorityOf(v);
    const r = await importGroup(
      getContext().db,
      { name, csv, replace: v.replace === true, ...(priority !== undefined ? { priority } : {}) },
      'cli',
    );
    if (v.json) return printJson(r);
    console.log(`group ${r.group}: ${r.added} added, ${r.removed} removed, ${r.members} members`);
    if (r.unknown.length) console.error(`not found (${r.unknown.length}): ${r.unknown.join(', ')}`);
  },
};

export const groupList: Command = {
  summary: 'list device groups in priority order, with the handsets each holds now and its policy',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    positionals(pos, []);
    const groups = await listGroupViews(getContext().db);
    if (v.json) return printJson({ groups });
    if (!groups.length) return console.log('no device groups');
    console.log(
      table(groups, [
        { header: 'group', value: (g) => g.name },
        { header: 'priority', value: (g) => String(g.priority) },
        { header: 'handsets', value: (g) => String(g.matches) },
        { header: 'policy', value: (g) => g.policy?.name ?? '-' },
        { header: 'who', value: (g) => describeRule(g.rule) },
      ]),
    );
  },
};

export const groupDelete: Command = {
  summary: 'delete a device group; its policy assignment goes with it',
  usage: 'NAME',
  options: {},
  async run(_v, pos) {
    const [name] = positionals(pos, ['NAME']);
    const r = await deleteGroup(getContext().db, name!, 'cli');
    console.log(
      `group ${r.group} deleted${r.policyUnassigned ? `; its handsets no longer follow ${r.policyUnassigned}` : ''}`,
    );
  },
};

export const policyListCommand: Command = {
  summary: 'list backup policies with the handsets each applies to now',
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    positionals(pos, []);
    const policies = await policyList(getContext().db);
    if (v.json) return printJson({ policies });
    console.log(
      table(policies, [
        { header: 'policy', value: (p) => `${p.name}${p.isDefault ? ' (default)' : ''}` },
        { header: 'every (min)', value: (p) => String(p.intervalMinutes) },
        { header: 'safety backup', value: (p) => (p.safetyBackupBeforeUpdates ? 'yes' : 'no') },
        { header: 'handsets', value: (p) => String(p.handsets) },
      ]),
    );
  },
};

export const policyDelete: Command = {
  summary: 'delete a policy (by name or id): its assignments go, its own handsets fall back; never the default',
  usage: 'NAME',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    const [name] = positionals(pos, ['NAME']);
    const db = getContext().db;
    const r = await deletePolicyAs(db, (await policyNamed(db, name!)).id, 'cli');
    if (v.json) return printJson({ deleted: r });
    console.log(
      `policy ${r.name} deleted: ${r.assignments.length} assignment${r.assignments.length === 1 ? '' : 's'} removed; ${r.ownHandsets} handset${r.ownHandsets === 1 ? '' : 's'} that had it as their own follow their group's, model's or the default policy now`,
    );
  },
};
