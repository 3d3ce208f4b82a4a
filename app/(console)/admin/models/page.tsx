import Link from 'next/link';
import { AdminForm } from '@/components/admin-form';
import { Card, EmptyState, PageHeader, Table, tdClass, thClass } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { CATEGORIES } from '@/lib/omadm/mo/backup-restore';
import { requireViewer } from '@/lib/server/action';
import { modelChangeDetection, modelProfiles } from '@/lib/backup/views';
import { modelDetectionText } from '@/lib/backup/airtime';
import { formatTime } from '@/lib/core/format';
import { addModelAction, saveProfileAction } from './actions';

export const dynamic = 'force-dynamic';

const key = (manufacturer: string, model: string) => `${manufacturer}/${model}`;

export default async function ModelsPage({ searchParams }: { searchParams: Promise<{ model?: string }> }) {
  await requireViewer(['admin']);
  const { db } = getContext();
  const q = await searchParams;
  const models = await modelProfiles(db);
  const selected = models.find((m) => key(m.manufacturer, m.model) === q.model) ?? models[0];
  const changes = selected ? await modelChangeDetection(db, selected.manufacturer, selected.model) : undefined;
  return (
    <div className="space-y-6">
      <PageHeader
        title="Models and backup profiles"
        subtitle="Which DM subtrees each backup category takes for a model: the generic profile every handset has, plus the model's own paths."
      />
      <div className="grid gap-6 lg:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
        <Card title={`Known models (${models.length})`}>
          {models.length === 0 ? (
            <EmptyState title="No model yet">
              Add one below, or let a handset connect: its model is recorded when it is.
            </EmptyState>
          ) : (
            <Table caption="Known models">
              <thead>
                <tr>
                  <th className={thClass}>Model</th>
                  <th className={thClass}>Own paths</th>
                </tr>
              </thead>
              <tbody>
                {models.map((m) => {
                  const k = key(m.manufacturer, m.model);
                  const own = CATEGORIES.reduce((n, c) => n + m.own[c].length, 0);
                  const current = selected && key(selected.manufacturer, selected.model) === k;
                  return (
                    <tr key={k} className={current ? 'bg-sky-50' : undefined}>
                      <td className={tdClass}>
                        <Link
                          href={`/admin/models?model=${encodeURIComponent(k)}`}
                          aria-current={current ? 'true' : undefined}
                          className="text-sky-700 hover:underline"
                        >
                          {m.manufacturer} {m.model}
                        </Link>
                      </td>
                      <td className={tdClass}>{own ? `${own} path${own === 1 ? '' : 's'}` : 'generic only'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </Table>
          )}
          <div className="mt-4">
            <h3 className="mb-2 text-sm font-medium">Add a model</h3>
            <AdminForm
              action={addModelAction}
              submit="Add model"
              success="Model added"
              resetOnSuccess
              fields={[
                {
                  kind: 'text',
                  name: 'manufacturer',
                  label: 'Manufacturer',
                  placeholder: 'Nimbus',
                  hint: 'As in DevInfo/Man.',
                },
                { kind: 'text', name: 'model', label: 'Model', placeholder: 'N1', hint: 'As in DevInfo/Mod.' },
              ]}
            />
          </div>
        </Card>
        {selected ? (
          <Card title={`${selected.manufacturer} ${selected.model}`}>
            <Table caption={`Backup profile of ${selected.manufacturer} ${selected.model}`}>
              <thead>
                <tr>
                  <th className={thClass}>Category</th>
                  <th className={thClass}>Generic</th>
                  <th className={thClass}>Taken in all</th>
                </tr>
              </thead>
              <tbody>
                {CATEGORIES.map((c) => (
                  <tr key={c}>
                    <td className={tdClass}>{c}</td>
                    <td className={`${tdClass} font-mono text-xs`}>{selected.generic[c].join(', ') || '-'}</td>
                    <td className={`${tdClass} font-mono text-xs`}>{selected.profile[c].join(', ') || 'nothing'}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
            {changes ? (
              <div className="mt-4">
                <h3 className="mb-2 text-sm font-medium">How its backups find what changed</h3>
                <p className="text-sm">
                  {modelDetectionText(changes.detection)}
                  {changes.learnedAt ? (
                    <span className="text-slate-600"> Learned {formatTime(changes.learnedAt)}.</span>
                  ) : null}
                </p>
                <p className={`mt-1 text-sm ${changes.digestDefects ? 'text-red-700' : 'text-slate-600'}`}>
                  {changes.digestDefects
                    ? `Defects found by verification walks (a change the handset said had not happened): ${changes.digestDefects} (last ${formatTime(changes.lastDigestDefectAt)}: ${changes.lastDigestDefect}).`
                    : 'No defect found by verification walks.'}
                </p>
              </div>
            ) : null}
            <h3 className="mb-2 mt-4 text-sm font-medium">The model&apos;s own paths</h3>
            <AdminForm
              key={key(selected.manufacturer, selected.model)}
              action={saveProfileAction}
              submit="Save profile"
              success="Profile saved"
              fields={[
                { kind: 'hidden', name: 'manufacturer', value: selected.manufacturer },
                { kind: 'hidden', name: 'model', value: selected.model },
                ...CATEGORIES.map((c) => ({
                  kind: 'textarea' as const,
                  name: c,
                  label: c,
                  rows: 3,
                  defaultValue: selected.own[c].join('\n'),
                  hint: 'One DM path per line, e.g. ./Settings/Sound',
                })),
              ]}
            />
          </Card>
        ) : null}
      </div>
    </div>
  );
}
