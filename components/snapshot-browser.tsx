/**
 * A backup as an agent reads a handset: applications, firmware, settings by group,
 * certificates with their expiry, a gallery of pictures and sounds, a search through every
 * node; the raw DM tree folded behind a toggle for everything else.
 */
import type { AppView, CertificateView, MediaItem, SettingGroup } from '@/lib/backup/browse';
import type { CategoryGroup, EntryView } from '@/lib/backup/snapshot-views';
import { formatBytes, plural } from '@/lib/core/format';
import { MediaPreview } from './media-preview';
import { SnapshotTree } from './snapshot-tree';
import { SnapshotValue } from './snapshot-value';
import { Badge, Button, Card, EmptyState, Facts, Table, inputClass, tdClass, HeadRow } from './ui';

function Apps({ apps }: { apps: AppView[] }) {
  if (!apps.length) return <EmptyState title="No applications in this backup" />;
  return (
    <Table caption="Applications: name, version and state">
      <HeadRow columns={['Name', 'Version', 'State', 'Application id']} />
      <tbody>
        {apps.map((a) => (
          <tr key={a.path}>
            <td className={tdClass}>{a.name}</td>
            <td className={`${tdClass} tabular-nums`}>{a.version ?? '-'}</td>
            <td className={tdClass}>
              {a.state ? <Badge tone={a.state === 'active' ? 'good' : 'neutral'}>{a.state}</Badge> : '-'}
            </td>
            <td className={`${tdClass} font-mono text-xs break-all`}>{a.id ?? '-'}</td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

function Certificates({ certificates }: { certificates: CertificateView[] }) {
  if (!certificates.length) return <EmptyState title="No certificates in this backup" />;
  return (
    <Table caption="Certificates: subject, issuer and expiry">
      <HeadRow columns={['Subject', 'Issuer', 'Expires', 'Tied to the handset']} />
      <tbody>
        {certificates.map((c) => (
          <tr key={c.path}>
            <td className={tdClass}>{c.subject}</td>
            <td className={`${tdClass} text-xs`}>{c.issuer ?? '-'}</td>
            <td className={`${tdClass} whitespace-nowrap`}>
              {c.validTo === null ? (
                'unreadable'
              ) : (
                <>
                  <time dateTime={new Date(c.validTo).toISOString()}>
                    {new Date(c.validTo).toISOString().slice(0, 10)}
                  </time>{' '}
                  {c.expired ? <Badge tone="bad">expired</Badge> : null}
                </>
              )}
            </td>
            <td className={tdClass}>
              {c.deviceBound === null ? '-' : c.deviceBound ? 'yes: issued anew on restore' : 'no'}
            </td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

function Settings({ settings }: { settings: SettingGroup[] }) {
  if (!settings.length) return <EmptyState title="No settings in this backup" />;
  return (
    <div className="grid gap-3 md:grid-cols-2">
      {settings.map((g) => (
        <section key={g.path} aria-label={g.label} className="rounded border border-slate-200 p-3">
          <h3 className="mb-1 text-sm font-medium">{g.label}</h3>
          <dl className="text-sm">
            {g.values.map((v) => (
              <div key={v.path} className="flex justify-between gap-4 border-b border-slate-100 py-0.5">
                <dt className="text-slate-600">{v.name}</dt>
                <dd className="min-w-0 text-right break-all">{v.value}</dd>
              </div>
            ))}
          </dl>
        </section>
      ))}
    </div>
  );
}

function Gallery({ media }: { media: MediaItem[] }) {
  if (!media.length) return <EmptyState title="No pictures or sounds in this backup" />;
  return (
    <ul className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-3" aria-label="Pictures and sounds">
      {media.map((m) => (
        <li key={m.path} className="space-y-1 rounded border border-slate-200 p-2">
          <MediaPreview src={m.url} kind={m.kind} label={`${m.folder}: ${m.name}`} />
          <p className="text-sm">
            <span className="font-medium">{m.name}</span>{' '}
            <span className="text-xs text-slate-600">
              {m.folder} · {formatBytes(m.size)} · {m.type}
            </span>
          </p>
          <a href={m.url} download className="text-xs text-sky-700 hover:underline">
            Download {m.name}
          </a>
        </li>
      ))}
    </ul>
  );
}

function SearchResults({
  snapshotId,
  q,
  hits,
  more,
}: {
  snapshotId: string;
  q: string;
  hits: Array<EntryView & { category: string }>;
  more: number;
}) {
  if (!hits.length)
    return <EmptyState title={`No node matches “${q}”`}>Try part of a name, a path or a value.</EmptyState>;
  return (
    <>
      <Table caption={`Nodes whose path or value holds “${q}”`}>
        <HeadRow columns={['Node', 'Category', 'Value']} />
        <tbody>
          {hits.map((e) => (
            <tr key={e.path}>
              <td className={`${tdClass} font-mono text-xs break-all`}>{e.path}</td>
              <td className={tdClass}>{e.category}</td>
              <td className={tdClass}>
                <SnapshotValue snapshotId={snapshotId} entry={e} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      {more ? (
        <p className="mt-2 text-sm text-slate-600">{plural(more, 'more node')} not shown: search for more of it.</p>
      ) : null}
    </>
  );
}

export function SnapshotBrowser({
  snapshotId,
  view,
}: {
  snapshotId: string;
  view: {
    apps: AppView[];
    firmware: Array<{ label: string; value: string; path: string }>;
    settings: SettingGroup[];
    certificates: CertificateView[];
    media: MediaItem[];
    groups: CategoryGroup[];
    q: string;
    search: { hits: Array<EntryView & { category: string }>; more: number };
  };
}) {
  const nodes = view.groups.reduce((n, g) => n + g.entries.length, 0);
  return (
    <div className="space-y-6">
      <Card title="Search in this backup">
        <form method="get" role="search" aria-label="Search in this backup" className="flex flex-wrap items-end gap-2">
          <div className="min-w-0 flex-1">
            <label htmlFor="snapshot-q" className="block text-sm font-medium">
              Node name, path or value
            </label>
            <input
              id="snapshot-q"
              name="q"
              type="search"
              defaultValue={view.q}
              maxLength={100}
              placeholder="APN, ShieldAV, Ringtones, 2.1.0"
              className={inputClass}
            />
          </div>
          <Button type="submit" variant="secondary">
            Search
          </Button>
        </form>
        {view.q ? (
          <div className="mt-3">
            <p role="status" className="mb-2 text-sm text-slate-600">
              {plural(view.search.hits.length + view.search.more, 'node')} found for “{view.q}”.
            </p>
            <SearchResults snapshotId={snapshotId} q={view.q} {...view.search} />
          </div>
        ) : null}
      </Card>
      <Card title={`Applications (${view.apps.length})`}>
        <Apps apps={view.apps} />
      </Card>
      <Card title="Firmware">
        {view.firmware.length ? (
          <Facts items={view.firmware.map((f) => [f.label, f.value])} />
        ) : (
          <EmptyState title="No firmware details in this backup" />
        )}
      </Card>
      <Card title={`Settings (${plural(view.settings.length, 'group')})`}>
        <Settings settings={view.settings} />
      </Card>
      <Card title={`Certificates (${view.certificates.length})`}>
        <Certificates certificates={view.certificates} />
      </Card>
      <Card title={`Pictures and sounds (${view.media.length})`}>
        <Gallery media={view.media} />
      </Card>
      <details className="rounded-lg border border-slate-200 bg-white">
        <summary className="cursor-pointer px-4 py-2 font-medium">
          Raw DM tree <span className="text-sm font-normal text-slate-600">({plural(nodes, 'node')})</span>
        </summary>
        <div className="border-t border-slate-100 p-2">
          <SnapshotTree snapshotId={snapshotId} groups={view.groups} />
        </div>
      </details>
    </div>
  );
}
