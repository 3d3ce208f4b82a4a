import Link from 'next/link';
import { AdminButton, AdminForm, type FieldSpec } from '@/components/admin-form';
import { NextBackupTime, PolicyPreview, sourceText } from '@/components/policy-preview';
import {
  Badge,
  Card,
  EmptyState,
  ErrorNote,
  PageHeader,
  Table,
  buttonClass,
  inputClass,
  tdClass,
  thClass,
} from '@/components/ui';
import { policiesPage, type PolicyView } from '@/lib/policies/policies';
import { getContext } from '@/lib/core/context';
import { CATEGORIES } from '@/lib/omadm/mo/backup-restore';
import { requireViewer } from '@/lib/server/action';
import {
  assignPolicyAction,
  deletePolicyAction,
  savePolicyAction,
  setGroupAction,
  unassignPolicyAction,
} from './actions';

export const dynamic = 'force-dynamic';

function retentionText(r: PolicyView['retention']): string {
  const parts = [
    r.keepLast !== undefined && `last ${r.keepLast}`,
    r.daily !== undefined && `${r.daily} daily`,
    r.weekly !== undefined && `${r.weekly} weekly`,
    r.monthly !== undefined && `${r.monthly} monthly`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'keeps every backup';
}

function policyFields(p: PolicyView | undefined): FieldSpec[] {
  return [
    ...(p ? [{ kind: 'hidden', name: 'id', value: p.id } as const] : []),
    { kind: 'text', name: 'name', label: 'Name', defaultValue: p?.name ?? '' },
    {
      kind: 'number',
      name: 'interval',
      label: 'Back up every',
      defaultValue: p?.interval ?? 24,
      min: 0,
      hint: '0: never scheduled (on demand only)',
    },
    {
      kind: 'select',
      name: 'intervalUnit',
      label: 'Unit',
      defaultValue: p?.intervalUnit ?? 'hours',
      options: [
        { value: 'minutes', label: 'minutes' },
        { value: 'hours', label: 'hours' },
        { value: 'days', label: 'days' },
      ],
    },
    {
      kind: 'number',
      name: 'jitterMinutes',
      label: 'Jitter (minutes)',
      defaultValue: p?.jitterMinutes ?? 60,
      min: 0,
      hint: 'Each handset gets a fixed place in this window, so a fleet does not connect at once.',
    },
    {
      kind: 'checkboxes',
      name: 'categories',
      label: 'Categories',
      defaultValues: p?.categories ?? [...CATEGORIES],
      options: CATEGORIES.map((c) => ({ value: c, label: c })),
      className: 'sm:col-span-2',
    },
    {
      kind: 'checkbox',
      name: 'wifiOnly',
      label: 'Wi-Fi only',
      defaultChecked: p?.wifiOnly ?? false,
      hint: 'Scheduled backups wait for Wi-Fi.',
    },
    {
      kind: 'checkbox',
      name: 'roamingAllowed',
      label: 'Allowed while roaming',
      defaultChecked: p?.roamingAllowed ?? false,
      hint: 'Otherwise scheduled backups wait for the home network.',
    },
    {
      kind: 'checkbox',
      name: 'safetyBackupBeforeUpdates',
      label: 'Safety backup before updates',
      defaultChecked: p?.safetyBackupBeforeUpdates ?? true,
      hint: 'A backup of the handset before a restore writes to it, so the restore can be undone. Off: restores start at once and cannot be undone.',
    },
    {
      kind: 'number',
      name: 'verifyEveryBackups',
      label: 'Verify every (backups)',
      defaultValue: p?.verifyEveryBackups ?? 10,
      min: 0,
      hint: 'Handsets whose backups move only what changed: a full walk every this many backups checks their digests (0: never by count).',
    },
    {
      kind: 'number',
      name: 'verifyEveryDays',
      label: 'and at least every (days)',
      defaultValue: p?.verifyEveryDays ?? 7,
      min: 0,
      hint: 'A full walk when the last one is older than this (0: never by age).',
    },
    {
      kind: 'number',
      name: 'keepLast',
      label: 'Keep last',
      defaultValue: p?.retention.keepLast ?? '',
      min: 0,
      hint: 'Blank: no such rule',
    },
    { kind: 'number', name: 'daily', label: 'Keep daily', defaultValue: p?.retention.daily ?? '', min: 0 },
    { kind: 'number', name: 'weekly', label: 'Keep weekly', defaultValue: p?.retention.weekly ?? '', min: 0 },
    { kind: 'number', name: 'monthly', label: 'Keep monthly', defaultValue: p?.retention.monthly ?? '', min: 0 },
    {
      kind: 'checkbox',
      name: 'makeDefault',
      label: 'The default policy',
      defaultChecked: p?.isDefault ?? false,
      hint: 'For every handset with no policy of its own, of its group or of its model.',
    },
  ];
}

/** The confirmation of a deletion: what happens to the policy's assignments and handsets, with counts. */
function deletionWords(p: PolicyView & { handsets: number; ownHandsets: number }, assignments: Assignment[]): string {
  const mine = assignments.filter((a) => a.policyId === p.id);
  const parts = [`Delete the policy ${p.name}?`];
  if (mine.length)
    parts.push(
      `Its ${mine.length === 1 ? 'assignment is' : `${mine.length} assignments are`} removed (${mine.map((a) => `${a.kind} ${a.key}, ${a.matches} handsets`).join('; ')}).`,
    );
  parts.push(
    `${p.handsets} handsets follow it now; ${p.ownHandsets} have it as their own policy. They fall back to their group's, their model's or the default policy.`,
  );
  return parts.join(' ');
}

type Assignment = Awaited<ReturnType<typeof policiesPage>>['assignments'][number];

export default async function PoliciesPage({
  searchParams,
}: {
  searchParams: Promise<{ edit?: string; new?: string; devId?: string }>;
}) {
  await requireViewer(['admin']);
  const q = await searchParams;
  const devId = q.devId?.trim().slice(0, 128) || undefined;
  const { now, all, editing, assignments, groups, models, handset, preview } = await policiesPage(getContext().db, {
    edit: q.edit,
    creating: q.new !== undefined,
    devId,
  });
  const names = new Map(all.map((p) => [p.id, p.name]));

  return (
    <div className="space-y-6">
      <PageHeader
        title="Backup policies"
        subtitle="How often each handset is backed up, what is taken, on which networks, and how long it is kept."
        actions={
          <Link href="/admin/policies?new" className={buttonClass('primary')}>
            New policy
          </Link>
        }
      />

      <Card title="Policies">
        <Table caption="Backup policies">
          <thead>
            <tr>
              <th className={thClass}>Name</th>
              <th className={thClass}>Schedule</th>
              <th className={thClass}>Categories</th>
              <th className={thClass}>Networks</th>
              <th className={thClass}>Retention</th>
              <th className={thClass}>Safety backup</th>
              <th className={thClass}>Assigned to</th>
              <th className={thClass}>Handsets</th>
              <th className={thClass}>
                <span className="sr-only">Edit or delete</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {all.map((p) => (
              <tr
                key={p.id}
                aria-current={editing?.id === p.id ? 'true' : undefined}
                className={editing?.id === p.id ? 'bg-sky-50' : undefined}
              >
                <td className={tdClass}>
                  {p.name} {p.isDefault ? <Badge tone="good">default</Badge> : null}
                </td>
                <td className={tdClass}>
                  {p.every}
                  {p.jitterMinutes ? `, ±${p.jitterMinutes} min` : ''}
                </td>
                <td className={tdClass}>{p.categories.join(', ')}</td>
                <td className={tdClass}>
                  {p.wifiOnly ? 'Wi-Fi only' : 'any'}
                  {p.roamingAllowed ? ', roaming allowed' : ', not roaming'}
                </td>
                <td className={tdClass}>{retentionText(p.retention)}</td>
                <td className={tdClass}>{p.safetyBackupBeforeUpdates ? 'before updates' : 'none (no undo)'}</td>
                <td className={tdClass}>
                  {assignments
                    .filter((a) => a.policyId === p.id)
                    .map((a) => `${a.kind} ${a.key}`)
                    .join('; ') || (p.isDefault ? 'everything else' : '-')}
                </td>
                <td className={tdClass}>
                  <Link href={`/devices?policy=${encodeURIComponent(p.id)}`} className="text-sky-700 hover:underline">
                    {p.handsets}
                    <span className="sr-only"> handsets follow {p.name}</span>
                  </Link>
                </td>
                <td className={`${tdClass} space-x-2 whitespace-nowrap`}>
                  <Link href={`/admin/policies?edit=${p.id}`} className="text-sky-700 hover:underline">
                    Edit<span className="sr-only"> {p.name}</span>
                  </Link>
                  {p.isDefault ? null : (
                    <AdminButton
                      action={deletePolicyAction}
                      values={{ id: p.id }}
                      label={`Delete ${p.name}`}
                      success="Policy deleted"
                      variant="danger"
                      confirm={deletionWords(p, assignments)}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
        <p className="mt-3 text-xs text-slate-600">
          With a safety backup before updates (the default), a restore waits for a backup of the handset, does not run
          if it fails, and can be undone. The default policy cannot be deleted.
        </p>
      </Card>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title={editing ? `Edit ${editing.name}` : 'New policy'}>
          <AdminForm
            key={editing?.id ?? 'new'}
            action={savePolicyAction}
            fields={policyFields(editing)}
            submit={editing ? 'Save policy' : 'Create policy'}
            success={editing ? 'Policy saved' : 'Policy created'}
            resetOnSuccess={!editing}
          />
        </Card>
        <Card title="Next backups">
          {editing ? (
            <>
              <p className="mb-2 text-sm text-slate-600">
                When the scheduler will next back up handsets that follow <strong>{editing.name}</strong> (
                {editing.every}): a sample of the most recently seen.
              </p>
              <PolicyPreview rows={preview} now={now} caption={`Next backups under ${editing.name}`} />
            </>
          ) : (
            <p className="text-sm text-slate-600">
              Create the policy, then assign it, to see when its handsets will be backed up.
            </p>
          )}
          <form method="get" className="mt-4 flex flex-wrap items-end gap-2" role="search" aria-label="Check a handset">
            {editing ? <input type="hidden" name="edit" value={editing.id} /> : null}
            <div className="min-w-0 flex-1">
              <label htmlFor="check-devId" className="block text-sm font-medium">
                Check a handset
              </label>
              <input
                id="check-devId"
                name="devId"
                defaultValue={devId ?? ''}
                placeholder="IMEI:356938035643809"
                className={inputClass}
              />
            </div>
            <button type="submit" className={buttonClass('secondary')}>
              Check
            </button>
          </form>
          {devId ? (
            handset ? (
              <div
                className="mt-3 rounded border border-slate-200 p-3 text-sm"
                aria-live="polite"
                data-testid="handset-next-backup"
              >
                <p>
                  <Link href={`/devices/${handset.deviceId}`} className="font-mono text-sky-700 hover:underline">
                    {handset.devId}
                  </Link>{' '}
                  follows <strong>{handset.policyName}</strong> ({sourceText(handset)}).
                </p>
                <p className="mt-1">
                  Next backup: <NextBackupTime at={handset.nextAt} now={now} />
                </p>
              </div>
            ) : (
              <div className="mt-3">
                <ErrorNote>No handset has the DevId {devId}.</ErrorNote>
              </div>
            )
          ) : null}
        </Card>
      </div>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Assignments">
          <p className="mb-3 text-sm text-slate-600">
            A handset follows its own policy if it has one, else that of the first of its{' '}
            <Link href="/admin/groups" className="text-sky-700 underline">
              device groups
            </Link>{' '}
            (by priority) with one, else its model&apos;s, else the default.
          </p>
          {assignments.length ? (
            <Table caption="Policy assignments">
              <thead>
                <tr>
                  <th className={thClass}>Kind</th>
                  <th className={thClass}>Model or group</th>
                  <th className={thClass}>Policy</th>
                  <th className={thClass}>Handsets now</th>
                  <th className={thClass}>
                    <span className="sr-only">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {assignments.map((a) => (
                  <tr key={a.id}>
                    <td className={tdClass}>{a.kind}</td>
                    <td className={`${tdClass} font-mono`}>{a.key}</td>
                    <td className={tdClass}>{names.get(a.policyId) ?? '?'}</td>
                    <td className={tdClass} data-testid={`matches-${a.kind}-${a.key}`}>
                      {a.kind === 'group' ? (
                        <Link
                          href={`/devices?group=${encodeURIComponent(a.key)}`}
                          className="text-sky-700 hover:underline"
                        >
                          {a.matches}
                        </Link>
                      ) : (
                        a.matches
                      )}
                    </td>
                    <td className={tdClass}>
                      <AdminButton
                        action={unassignPolicyAction}
                        values={{ id: a.id }}
                        label="Remove"
                        success="Assignment removed"
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
          ) : (
            <EmptyState title="No assignments">
              Every handset without a policy of its own follows the default.
            </EmptyState>
          )}
          <div className="mt-4">
            <AdminForm
              action={assignPolicyAction}
              submit="Assign"
              success="Policy assigned"
              columns={3}
              resetOnSuccess
              fields={[
                {
                  kind: 'select',
                  name: 'key',
                  label: 'Assign to',
                  hint: 'A model some handset reports or has a backup profile, or a device group (with the handsets it holds now).',
                  options: [
                    { value: '', label: 'Choose a model or a group' },
                    ...models.map((m) => ({ value: `model:${m}`, label: `Model ${m.replace('/', ' ')}` })),
                    ...groups.map((g) => ({
                      value: `group:${g.name}`,
                      label: `Device group ${g.name} (${g.matches} handset${g.matches === 1 ? '' : 's'})`,
                    })),
                  ],
                },
                {
                  kind: 'select',
                  name: 'policyId',
                  label: 'Policy',
                  options: all.map((p) => ({ value: p.id, label: p.name })),
                },
              ]}
            />
          </div>
        </Card>
        <Card title="Device groups">
          {groups.length ? (
            <ul className="mb-3 flex flex-wrap gap-2 text-sm">
              {groups.map((g) => (
                <li key={g.name}>
                  <Link href={`/devices?group=${encodeURIComponent(g.name)}`}>
                    <Badge>
                      {g.name}: {g.matches}
                    </Badge>
                  </Link>
                </li>
              ))}
            </ul>
          ) : (
            <p className="mb-3 text-sm text-slate-600">There are no device groups yet.</p>
          )}
          <p className="mb-3 text-sm text-slate-600">
            Rules and lists are made on the{' '}
            <Link href="/admin/groups" className="text-sky-700 underline">
              device groups page
            </Link>
            . Here one handset can be put in a list (made when new).
          </p>
          <AdminForm
            action={setGroupAction}
            submit="Add to group"
            success="Handset added"
            resetOnSuccess
            fields={[
              { kind: 'text', name: 'devId', label: 'Handset DevId', placeholder: 'IMEI:356938035643809' },
              {
                kind: 'text',
                name: 'group',
                label: 'Group (a list)',
                placeholder: 'enterprise',
                hint: 'Blank takes the handset out of every list.',
                list: groups.filter((g) => g.kind === 'static').map((g) => g.name),
              },
            ]}
          />
        </Card>
      </div>
    </div>
  );
}
