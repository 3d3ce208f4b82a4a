/**
 * Two backups side by side: firmware and app version changes called out first, then each
 * category with its added / removed / changed counts and its nodes, before | after.
 */
import type { AppChange, FirmwareChange } from '@/lib/backup/diff';
import type { DiffGroup, DiffRow } from '@/lib/backup/snapshot-views';
import { SnapshotValue } from './snapshot-value';
import { Badge, EmptyState, buttonClass, cx, inputClass, tdClass, HeadRow } from './ui';

const FIELD: Record<FirmwareChange['field'], string> = { FwV: 'Firmware', SwV: 'Software', HwV: 'Hardware' };

function arrow(before?: string, after?: string) {
  return (
    <span className="font-mono">
      {before ?? <span className="text-slate-500">none</span>} <span aria-hidden="true">→</span>
      <span className="sr-only">to</span> {after ?? <span className="text-slate-500">none</span>}
    </span>
  );
}

const APP_TONE = {
  installed: 'good',
  removed: 'bad',
  upgraded: 'info',
  downgraded: 'warn',
  changed: 'neutral',
} as const;

export function VersionChanges({ firmware, apps }: { firmware: FirmwareChange[]; apps: AppChange[] }) {
  if (!firmware.length && !apps.length)
    return <p className="text-sm text-slate-600">No firmware or app version changed.</p>;
  return (
    <ul className="space-y-1 text-sm">
      {firmware.map((f) => (
        <li key={f.field} className="rounded bg-amber-50 px-2 py-1 ring-1 ring-amber-200">
          <strong>{FIELD[f.field]}</strong> {arrow(f.before, f.after)}
        </li>
      ))}
      {apps.map((a) => (
        <li key={a.id} className="rounded bg-sky-50 px-2 py-1 ring-1 ring-sky-200">
          <strong>{a.name ?? a.id}</strong>
          {a.name ? <span className="text-xs text-slate-600"> ({a.id})</span> : null}{' '}
          <Badge tone={APP_TONE[a.change]}>{a.change}</Badge>{' '}
          {a.before !== undefined || a.after !== undefined ? arrow(a.before, a.after) : null}
        </li>
      ))}
    </ul>
  );
}

export interface SnapshotOption {
  id: string;
  label: string;
}

/** Any two complete backups of the handset. A plain GET form: the choice is in the URL, so it can be shared. */
export function DiffPickers({
  deviceId,
  options,
  from,
  to,
}: {
  deviceId: string;
  options: SnapshotOption[];
  from?: string;
  to?: string;
}) {
  return (
    <form method="get" action={`/devices/${deviceId}/diff`} className="flex flex-wrap items-end gap-3">
      <div className="min-w-0 flex-1">
        <label htmlFor="diff-from" className="block text-sm font-medium">
          Before
        </label>
        <select id="diff-from" name="from" defaultValue={from} className={inputClass}>
          {options.map((o) => (
            <option key={o.id} value={o.id}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
      <div className="min-w-0 flex-1">
        <label htmlFor="diff-to" className="block text-sm font-medium">
          After
        </label>
        <select id="diff-to" name="to" defaultValue={to} className={inputClass}>
          {options.map((o) => (
            <option key={o.id} value={o.id}>
              {o.label}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" className={buttonClass('secondary')}>
        Compare
      </button>
    </form>
  );
}

const CHANGE = {
  added: { tone: 'good', before: '', after: 'bg-emerald-50' },
  removed: { tone: 'bad', before: 'bg-red-50', after: '' },
  changed: { tone: 'warn', before: 'bg-amber-50/50', after: 'bg-amber-50' },
} as const;

function Row({ row, fromId, toId }: { row: DiffRow; fromId: string; toId: string }) {
  const c = CHANGE[row.change];
  return (
    <tr>
      <th scope="row" className={`${tdClass} font-normal`}>
        <span className="block font-mono text-xs break-all">{row.path}</span>
        <Badge tone={c.tone}>{row.change}</Badge>
      </th>
      <td className={cx(tdClass, c.before)}>
        {row.before ? (
          <SnapshotValue snapshotId={fromId} entry={row.before} />
        ) : (
          <span className="text-xs text-slate-500">not there</span>
        )}
      </td>
      <td className={cx(tdClass, c.after)}>
        {row.after ? (
          <SnapshotValue snapshotId={toId} entry={row.after} />
        ) : (
          <span className="text-xs text-slate-500">gone</span>
        )}
      </td>
    </tr>
  );
}

export function DiffGroups({ groups, fromId, toId }: { groups: DiffGroup[]; fromId: string; toId: string }) {
  if (!groups.length) return <EmptyState title="No changes">Every node is the same in both backups.</EmptyState>;
  return (
    <div className="space-y-3">
      {groups.map((g) => (
        <details key={g.category} open className="rounded-lg border border-slate-200 bg-white">
          <summary className="cursor-pointer px-4 py-2">
            <h2 className="inline text-base font-medium">{g.label}</h2>{' '}
            <span className="text-sm text-slate-600">
              {g.counts.added} added · {g.counts.removed} removed · {g.counts.changed} changed
            </span>
          </summary>
          <div className="overflow-x-auto border-t border-slate-100 px-2 pb-2">
            <table className="w-full min-w-[40rem] table-fixed text-left text-sm">
              <caption className="sr-only">{g.label}: changes, before and after</caption>
              <colgroup>
                <col className="w-1/3" />
                <col className="w-1/3" />
                <col className="w-1/3" />
              </colgroup>
              <HeadRow columns={['Node', 'Before', 'After']} />
              <tbody>
                {g.rows.map((r) => (
                  <Row key={r.path} row={r} fromId={fromId} toId={toId} />
                ))}
              </tbody>
            </table>
            {g.more ? (
              <p className="px-2 pt-2 text-xs text-slate-500">{g.more} more changes in this category are not listed.</p>
            ) : null}
          </div>
        </details>
      ))}
    </div>
  );
}
