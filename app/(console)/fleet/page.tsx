import Link from 'next/link';
import { BarChart } from '@/components/charts';
import { ReasonList, ShareBar, StorageFigures } from '@/components/fleet-charts';
import { Card, EmptyState, PageHeader, StatusBadge, Table, tdClass, thClass } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { formatBytes, formatTime } from '@/lib/core/format';
import { FLEET_DAYS, dayLabel, fleetOverview } from '@/lib/devices/fleet-overview';
import { requireViewer } from '@/lib/server/action';

export const dynamic = 'force-dynamic';

const GREEN = '#059669';
const RED = '#dc2626';
const AMBER = '#d97706';
const SLATE = '#94a3b8';

export default async function FleetPage() {
  await requireViewer(['agent', 'admin']);
  const f = await fleetOverview(getContext().db);
  const s = f.status;
  return (
    <div className="space-y-6">
      <PageHeader
        title="Fleet overview"
        subtitle={`Backups, failures, coverage and storage across every handset; the last ${FLEET_DAYS} days, UTC.`}
      />
      <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4">
        <Stat label="Devices" value={s.devices} />
        <Stat label="DM sessions completed" value={s.sessionsComplete} />
        <Stat label="Sessions active" value={s.sessionsActive} />
        <Stat label="Backups" value={s.snapshotsComplete} note={`${formatBytes(s.stored.bytes)} stored`} />
      </dl>

      <Card title="Backups per day">
        <BarChart
          title={`Backups per day, last ${FLEET_DAYS} days: complete and failed`}
          series={[
            { name: 'complete', color: GREEN },
            { name: 'failed', color: RED },
          ]}
          bars={f.backups.map((d) => ({ label: dayLabel(d.day), values: [d.complete, d.failed] }))}
        />
      </Card>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Coverage">
          <p className="mb-2 text-sm text-slate-600">Handsets by the age of their last good backup.</p>
          <ShareBar
            title="Coverage"
            parts={[
              { label: 'last day', value: f.coverage.day, color: GREEN },
              { label: 'last week', value: f.coverage.week, color: AMBER },
              { label: 'older', value: f.coverage.older, color: RED },
              { label: 'never', value: f.coverage.never, color: SLATE },
            ]}
          />
          {f.categories.length ? (
            <div className="mt-4">
              <Table caption="Handsets with a good backup of each category in the last week">
                <thead>
                  <tr>
                    <th className={thClass}>Category</th>
                    <th className={thClass}>Backed up this week</th>
                    <th className={thClass}>Share</th>
                  </tr>
                </thead>
                <tbody>
                  {f.categories.map((c) => (
                    <tr key={c.category}>
                      <td className={tdClass}>{c.category}</td>
                      <td className={`${tdClass} tabular-nums`}>{c.devices}</td>
                      <td className={`${tdClass} tabular-nums`}>{Math.round(c.share * 100)}%</td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            </div>
          ) : null}
        </Card>
        <Card title="Failures and their reasons">
          {f.failures.length ? (
            <ReasonList reasons={f.failures} />
          ) : (
            <EmptyState title={`No failed job in the last ${FLEET_DAYS} days`} />
          )}
          <p className="mt-3 text-xs text-slate-600">
            <Link href="/audit?action=backup.failed" className="text-sky-700 hover:underline">
              Failed backups in the audit log
            </Link>
          </p>
        </Card>
      </div>

      <Card title="Storage">
        <StorageFigures {...f.totals} />
        <div className="mt-4 grid gap-6 lg:grid-cols-2">
          <BarChart
            title="Stored content over time (distinct bytes in the store)"
            series={[{ name: 'stored', color: '#0369a1' }]}
            format={formatBytes}
            bars={f.storage.map((d) => ({ label: dayLabel(d.day), values: [d.stored] }))}
          />
          <BarChart
            title="Backed up per day (logical bytes of complete backups)"
            series={[{ name: 'logical', color: '#7c3aed' }]}
            format={formatBytes}
            bars={f.storage.map((d) => ({ label: dayLabel(d.day), values: [d.logical] }))}
          />
        </div>
      </Card>

      <Card title="Refused authentications">
        <p className="mb-2 text-sm text-slate-600">
          Requests the failed-authentication limits refused, by door and reason, counted by this server process since{' '}
          {formatTime(f.refusals.since)} (each process counts its own; a restart starts again). A client with valid
          credentials is never among them.
        </p>
        {f.refusals.rows.length === 0 ? (
          <EmptyState title="No refusal" />
        ) : (
          <Table caption="Refused authentications by door and reason">
            <thead>
              <tr>
                <th className={thClass}>Door</th>
                <th className={thClass}>Reason</th>
                <th className={`${thClass} text-right`}>Refusals</th>
              </tr>
            </thead>
            <tbody>
              {f.refusals.rows.map((r) => (
                <tr key={`${r.door}|${r.reason}`}>
                  <td className={tdClass}>{r.doorName}</td>
                  <td className={tdClass}>{r.meaning}</td>
                  <td className={`${tdClass} text-right tabular-nums`}>{r.count}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>

      <Card title="Recent backups">
        {s.recentBackups.length === 0 ? (
          <EmptyState title="No backup yet">
            Run <code>npm run demo</code>, or queue one from a device page.
          </EmptyState>
        ) : (
          <Table caption="Recent backups">
            <thead>
              <tr>
                <th className={thClass}>Handset</th>
                <th className={thClass}>Started</th>
                <th className={thClass}>Trigger</th>
                <th className={thClass}>Status</th>
                <th className={`${thClass} text-right`}>Nodes</th>
                <th className={`${thClass} text-right`}>Size</th>
                <th className={`${thClass} text-right`}>New content</th>
              </tr>
            </thead>
            <tbody>
              {s.recentBackups.map((b) => (
                <tr key={b.id}>
                  <td className={`${tdClass} font-mono`}>
                    <Link href={`/devices/${b.deviceId}`} className="text-sky-800 hover:underline">
                      {b.devId}
                    </Link>
                  </td>
                  <td className={`${tdClass} whitespace-nowrap`}>{formatTime(b.startedAt)}</td>
                  <td className={tdClass}>{b.trigger}</td>
                  <td className={tdClass}>
                    <StatusBadge status={b.status} />
                  </td>
                  <td className={`${tdClass} text-right tabular-nums`}>{b.entries}</td>
                  <td className={`${tdClass} text-right tabular-nums`}>{formatBytes(b.bytes)}</td>
                  <td className={`${tdClass} text-right tabular-nums`}>{formatBytes(b.newBytes)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>

      <Card title="Recently seen handsets">
        {s.recent.length === 0 ? (
          <EmptyState title="No handset has connected yet">
            Run <code>npm run demo</code> or point a DM client at <code>/dm</code>.
          </EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100">
            {s.recent.map((d) => (
              <li key={d.devId} className="flex flex-wrap justify-between gap-x-4 py-2 text-sm">
                <Link href={`/devices/${d.id}`} className="font-mono text-sky-800 hover:underline">
                  {d.devId}
                </Link>
                <span>
                  {d.manufacturer} {d.model} · {d.firmware ?? 'firmware unknown'}
                </span>
                <time dateTime={d.lastSeenAt ? new Date(d.lastSeenAt).toISOString() : undefined}>
                  {formatTime(d.lastSeenAt)}
                </time>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}

function Stat({ label, value, note }: { label: string; value: number; note?: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <dt className="text-sm text-slate-600">{label}</dt>
      <dd className="text-2xl font-semibold tabular-nums">{value}</dd>
      {note ? <dd className="text-xs text-slate-500">{note}</dd> : null}
    </div>
  );
}
