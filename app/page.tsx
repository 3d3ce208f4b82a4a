import { getContext } from '@/lib/app-context';
import { fleetStatus } from '@/db/queries/status';

export const dynamic = 'force-dynamic';

export default function Home() {
  const { db } = getContext();
  const s = fleetStatus(db);
  return (
    <main className="mx-auto max-w-3xl p-8">
      <h1 className="text-3xl font-semibold">Rewind</h1>
      <p className="mt-2 text-slate-600">
        Backup and restore for handsets managed over OMA Device Management.
      </p>
      <dl className="mt-8 grid grid-cols-1 gap-4 sm:grid-cols-3">
        <Stat label="Devices" value={s.devices} />
        <Stat label="DM sessions completed" value={s.sessionsComplete} />
        <Stat label="Sessions active" value={s.sessionsActive} />
      </dl>
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
    </main>
  );
}

function Stat({ label, value }: { label: string; value: number }) {
  return (
    <div className="rounded border border-slate-200 bg-white p-4">
      <dt className="text-sm text-slate-600">{label}</dt>
      <dd className="text-2xl font-semibold tabular-nums">{value}</dd>
    </div>
  );
}
