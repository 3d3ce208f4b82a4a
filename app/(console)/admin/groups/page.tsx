import Link from 'next/link';
import { AdminButton, AdminForm, type FieldSpec } from '@/components/admin-form';
import { GroupImport } from '@/components/group-import';
import { Badge, Card, EmptyState, PageHeader, Table, buttonClass, tdClass, thClass } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { COVERAGE_STATES, COVERAGE_WORDS } from '@/lib/devices/filter';
import { describeRule, groupsPage } from '@/lib/groups/groups';
import type { GroupView } from '@/lib/groups/schemas';
import { requireViewer } from '@/lib/server/action';
import { deleteGroupAction, importGroupAction, saveRuleGroupAction } from './actions';

export const dynamic = 'force-dynamic';

function ruleFields(models: string[], g: GroupView | undefined): FieldSpec[] {
  const r = g?.rule ?? undefined;
  const model = r?.manufacturer && r.model ? `${r.manufacturer}/${r.model}` : '';
  return [
    ...(g ? [{ kind: 'hidden', name: 'editing', value: g.name } as const] : []),
    { kind: 'text', name: 'name', label: 'Name', defaultValue: g?.name ?? '', placeholder: 'old-n1-firmware' },
    {
      kind: 'select',
      name: 'model',
      label: 'Model',
      defaultValue: model,
      options: [{ value: '', label: 'Any model' }, ...models.map((m) => ({ value: m, label: m.replace('/', ' ') }))],
    },
    { kind: 'text', name: 'firmwareFrom', label: 'Firmware from', defaultValue: r?.firmwareFrom ?? '' },
    {
      kind: 'text',
      name: 'firmwareTo',
      label: 'Firmware up to',
      defaultValue: r?.firmwareTo ?? '',
      hint: 'Both inclusive, compared as versions (1.10 is after 1.9).',
    },
    {
      kind: 'text',
      name: 'msisdnPrefix',
      label: 'Number starts with',
      defaultValue: r?.msisdnPrefix ?? '',
      placeholder: '4477',
      hint: "The subscriber's MSISDN, international digits without +.",
    },
    {
      kind: 'number',
      name: 'seenWithinDays',
      label: 'Seen within (days)',
      defaultValue: r?.seenWithinDays ?? '',
      min: 0,
    },
    {
      kind: 'number',
      name: 'notSeenForDays',
      label: 'Not seen for (days)',
      defaultValue: r?.notSeenForDays ?? '',
      min: 0,
    },
    {
      kind: 'select',
      name: 'coverage',
      label: 'Backup coverage',
      defaultValue: r?.coverage ?? '',
      options: [{ value: '', label: 'Any' }, ...COVERAGE_STATES.map((c) => ({ value: c, label: COVERAGE_WORDS[c] }))],
    },
    {
      kind: 'number',
      name: 'priority',
      label: 'Priority',
      defaultValue: g?.priority ?? 100,
      min: 0,
      hint: 'Lower first: a handset in several groups with policies follows the first one’s.',
    },
  ];
}

function deletionWords(g: GroupView): string {
  return [
    `Delete the group ${g.name}?`,
    g.kind === 'static' ? `Its list of ${g.matches} handsets is removed (the handsets stay).` : '',
    g.policy
      ? `Its assignment of the policy ${g.policy.name} is removed: its ${g.matches} handsets follow their next group's, their model's or the default policy.`
      : 'It has no policy assigned.',
  ]
    .filter(Boolean)
    .join(' ');
}

export default async function GroupsPage({ searchParams }: { searchParams: Promise<{ edit?: string }> }) {
  await requireViewer(['admin']);
  const q = await searchParams;
  const { groups, models } = await groupsPage(getContext().db);
  const editing = groups.find((g) => g.name === q.edit && g.kind === 'rule');

  return (
    <div className="space-y-6">
      <PageHeader
        title="Device groups"
        subtitle="Rules over the fleet, evaluated whenever they are read, and lists of handsets imported from CSV. Policies are assigned to groups on the policies page."
        actions={
          <Link href="/admin/policies" className={buttonClass('secondary')}>
            Policies
          </Link>
        }
      />
      <Card title="Groups">
        {groups.length ? (
          <Table caption="Device groups">
            <thead>
              <tr>
                <th className={thClass}>Name</th>
                <th className={thClass}>Who is in it</th>
                <th className={thClass}>Priority</th>
                <th className={thClass}>Handsets now</th>
                <th className={thClass}>Policy</th>
                <th className={thClass}>
                  <span className="sr-only">Edit or delete</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {groups.map((g) => (
                <tr key={g.id}>
                  <td className={tdClass}>
                    {g.name} <Badge>{g.kind === 'rule' ? 'rule' : 'list'}</Badge>
                  </td>
                  <td className={tdClass}>{describeRule(g.rule)}</td>
                  <td className={tdClass}>{g.priority}</td>
                  <td className={tdClass}>
                    <Link
                      href={`/devices?group=${encodeURIComponent(g.name)}`}
                      className="text-sky-700 hover:underline"
                      data-testid={`group-matches-${g.name}`}
                    >
                      {g.matches}
                      <span className="sr-only"> handsets in {g.name}</span>
                    </Link>
                  </td>
                  <td className={tdClass}>{g.policy ? g.policy.name : 'none'}</td>
                  <td className={`${tdClass} space-x-2 whitespace-nowrap`}>
                    {g.kind === 'rule' ? (
                      <Link
                        href={`/admin/groups?edit=${encodeURIComponent(g.name)}`}
                        className="text-sky-700 hover:underline"
                      >
                        Edit<span className="sr-only"> {g.name}</span>
                      </Link>
                    ) : null}
                    <AdminButton
                      action={deleteGroupAction}
                      values={{ name: g.name }}
                      label={`Delete ${g.name}`}
                      success="Group deleted"
                      variant="danger"
                      confirm={deletionWords(g)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : (
          <EmptyState title="No device groups">Make a rule or import a list below.</EmptyState>
        )}
      </Card>
      <div className="grid gap-6 lg:grid-cols-2">
        <Card title={editing ? `Edit ${editing.name}` : 'New rule group'}>
          <p className="mb-3 text-sm text-slate-600">
            A handset is in the group while every condition given holds; blank ones are not checked.
          </p>
          <AdminForm
            key={editing?.id ?? 'new'}
            action={saveRuleGroupAction}
            fields={ruleFields(models, editing)}
            submit={editing ? 'Save group' : 'Create group'}
            success={editing ? 'Group saved' : 'Group created'}
            resetOnSuccess={!editing}
          />
        </Card>
        <Card title="Import a list">
          <GroupImport
            action={importGroupAction}
            groups={groups.filter((g) => g.kind === 'static').map((g) => g.name)}
          />
        </Card>
      </div>
    </div>
  );
}
