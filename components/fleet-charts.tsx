/**
 * The fleet overview's non-axis charts: a share bar (coverage) and ranked reasons
 * (failures), as plain HTML so they wrap on a narrow screen and read as lists.
 */
import { formatBytes } from '@/lib/core/format';

export interface Share {
  label: string;
  value: number;
  color: string;
}

export function ShareBar({ title, parts }: { title: string; parts: Share[] }) {
  const total = parts.reduce((n, p) => n + p.value, 0);
  const pct = (v: number) => (total ? (v / total) * 100 : 0);
  return (
    <figure>
      <div
        className="flex h-4 w-full overflow-hidden rounded bg-slate-100"
        role="img"
        aria-label={`${title}: ${parts.map((p) => `${p.label} ${p.value}`).join(', ')}`}
      >
        {parts.map((p) =>
          p.value ? (
            <div
              key={p.label}
              style={{ width: `${pct(p.value)}%`, background: p.color }}
              title={`${p.label}: ${p.value}`}
            />
          ) : null,
        )}
      </div>
      <ul className="mt-2 grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-4">
        {parts.map((p) => (
          <li key={p.label} className="flex items-center gap-2">
            <span aria-hidden="true" className="inline-block h-2.5 w-2.5 rounded-sm" style={{ background: p.color }} />
            <span>{p.label}</span>
            <span className="ml-auto tabular-nums font-medium">{p.value}</span>
            <span className="tabular-nums text-slate-500">{Math.round(pct(p.value))}%</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

export function ReasonList({ reasons }: { reasons: Array<{ kind: string; reason: string; n: number }> }) {
  const max = Math.max(1, ...reasons.map((r) => r.n));
  return (
    <ol className="space-y-2">
      {reasons.map((r) => (
        <li key={`${r.kind} ${r.reason}`} className="text-sm">
          <div className="flex justify-between gap-3">
            <span className="min-w-0 break-words">
              <span className="font-mono text-xs text-slate-500">{r.kind}</span> {r.reason}
            </span>
            <span className="tabular-nums font-medium">{r.n}</span>
          </div>
          <div className="mt-0.5 h-1.5 rounded bg-red-100" aria-hidden="true">
            <div className="h-1.5 rounded bg-red-600" style={{ width: `${(r.n / max) * 100}%` }} />
          </div>
        </li>
      ))}
    </ol>
  );
}

export function StorageFigures({ logical, stored, blobs }: { logical: number; stored: number; blobs: number }) {
  return (
    <dl className="grid grid-cols-1 gap-2 text-sm sm:grid-cols-3">
      <div>
        <dt className="text-slate-600">Backups kept (logical)</dt>
        <dd className="text-xl font-semibold tabular-nums">{formatBytes(logical)}</dd>
      </div>
      <div>
        <dt className="text-slate-600">Stored (distinct content)</dt>
        <dd className="text-xl font-semibold tabular-nums">{formatBytes(stored)}</dd>
        <dd className="text-xs text-slate-500">{blobs} blobs</dd>
      </div>
      <div>
        <dt className="text-slate-600">Saved by deduplication</dt>
        <dd className="text-xl font-semibold tabular-nums">
          {logical > 0 ? `${Math.max(0, Math.round((1 - stored / logical) * 100))}%` : '-'}
        </dd>
      </div>
    </dl>
  );
}
