import { getContext } from '@/lib/app-context';
import { fleetStatus } from '@/db/queries/status';
import { requireViewer } from '@/lib/server/action';
import { formatBytes } from '@/lib/format';

export const dynamic = 'force-dynamic';

export default async function FleetPage() {
  await requireViewer(['agent', 'admin']);
  const { db } = getContext();
  const s = fleetStatus(db);
  return (
    <div>
      <h1 className="text-3xl font-semibold">Rewind</h1>
      <p className="mt-2 text-slate-600">
        Backup and restore for handsets managed over OMA Device Management.
      </p>
      <dl className="mt-8 grid grid-cols-2 gap-4 sm:grid-cols-4">
        <Stat label="Devices" value={s.devices} />
        <Stat label="DM sessions completed" value={s.sessionsComplete} />
        <Stat label="Sessions active" value={s.sessionsActive} />
        <Stat label="Backups" value={s.snapshotsComplete} note={`${formatBytes(s.stored.bytes)} stored`} />
      </dl>
      <section className="mt-8">
        <h2 className="text-lg font-medium">Recent backups</h2>
        {s.recentBackups.length === 0 ? (
          <p className="mt-2 text-slate-600">No backup yet.</p>
        ) : (
          <table className="mt-2 w-full rounded border border-slate-200 bg-white text-sm">
            <thead className="text-left text-slate-600">
              <tr><th className="px-4 py-2">Handset</th><th>Trigger</th><th>Status</th><th className="text-right">Nodes</th><th className="text-right">Size</th><th className="px-4 text-right">New content</th></tr>
            </thead>
            <tbody className="divide-y divide-slate-200">
              {s.recentBackups.map((b) => (
                <tr key={b.id}>
                  <td className="px-4 py-2 font-mono">{b.devId}</td>
                  <td>{b.trigger}</td>
                  <td className={b.status === 'complete' ? 'text-emerald-700' : b.status === 'failed' ? 'text-red-700' : 'text-amber-700'}>{b.status}</td>
                  <td className="text-right tabular-nums">{b.entries}</td>
                  <td className="text-right tabular-nums">{formatBytes(b.bytes)}</td>
                  <td className="px-4 text-right tabular-nums">{formatBytes(b.newBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="mt-8">
        <h2 className="text-lg font-medium">Recently seen handsets</h2>
        {s.recent.length === 0 ? (
          <p className="mt-2 text-slate-600">No handset has connected yet. Run <code>npm run demo</code> or point a DM client at <code>/dm</code>.</p>
        ) : (
          <ul className="mt-2 divide-y divide-slate-200 rounded border border-slate-200 bg-white">
            {s.recent.map((d) => (
              <li key={d.devId} className="flex justify-between px-4 py-2 text-sm">
                <span className="font-mono">{d.devId}</span>
                <span>{d.manufacturer} {d.model} · {d.firmware ?? 'firmware unknown'}</span>
                <time dateTime={d.lastSeenAt ? new Date(d.lastSeenAt).toISOString() : undefined}>
                  {d.lastSeenAt ? new Date(d.lastSeenAt).toLocaleString('en-GB') : 'never'}
                </time>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

function Stat({ label, value, note }: { label: string; value: number; note?: string }) {
  return (
    <div className="rounded border border-slate-200 bg-white p-4">
      <dt className="text-sm text-slate-600">{label}</dt>
      <dd className="text-2xl font-semibold tabular-nums">{value}</dd>
      {note ? <dd className="text-xs text-slate-500">{note}</dd> : null}
    </div>
  );
}
