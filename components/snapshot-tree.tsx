/** A snapshot's manifest by category, each a collapsible section of its nodes (indented by depth) and their values. */
import { formatBytes, plural } from '@/lib/core/format';
import type { CategoryGroup } from '@/lib/backup/snapshot-views';
import { SnapshotValue } from './snapshot-value';
import { EmptyState, tdClass, HeadRow } from './ui';

/** Categories this long start folded, so the page opens on an overview. */
const OPEN_MAX = 150;

export function SnapshotTree({ snapshotId, groups }: { snapshotId: string; groups: CategoryGroup[] }) {
  if (!groups.length) return <EmptyState title="This backup holds no nodes" />;
  return (
    <div className="space-y-3">
      {groups.map((g) => (
        <details
          key={g.category}
          open={g.entries.length <= OPEN_MAX}
          className="rounded-lg border border-slate-200 bg-white"
        >
          <summary className="cursor-pointer px-4 py-2 font-medium">
            <h2 className="inline text-base">{g.label}</h2>{' '}
            <span className="text-sm font-normal text-slate-600">
              {plural(g.entries.length, 'node')} · {formatBytes(g.bytes)}
            </span>
          </summary>
          <div className="overflow-x-auto border-t border-slate-100 px-2 pb-2">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">{g.label}: nodes and values</caption>
              <HeadRow columns={['Node', 'Value']} />
              <tbody>
                {g.entries.map((e) => (
                  <tr key={e.path}>
                    <th scope="row" className={`${tdClass} font-normal`}>
                      <span
                        style={{ paddingLeft: `${Math.min(e.depth, 8) * 0.75}rem` }}
                        className={`block font-mono text-xs break-all ${e.interior ? 'font-semibold text-slate-800' : ''}`}
                        title={e.path}
                      >
                        <span className="sr-only">{e.path}</span>
                        <span aria-hidden="true">{e.depth ? e.name : e.path}</span>
                      </span>
                    </th>
                    <td className={tdClass}>
                      <SnapshotValue snapshotId={snapshotId} entry={e} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      ))}
    </div>
  );
}
