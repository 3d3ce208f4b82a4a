/** The backups the handset keeps itself (its storage or smart card), as it last reported them. */
import type { LocalBackupView } from '@/lib/devices/views';
import { formatAge, formatBytes, formatTime, plural } from '@/lib/core/format';
import { Badge, EmptyState, Table, tdClass, thClass } from './ui';

export function DeviceLocalBackups({ rows, now }: { rows: LocalBackupView[]; now: number }) {
  if (!rows.length)
    return (
      <EmptyState title="No local backups">
        The handset has reported no backup on its own storage or smart card.
      </EmptyState>
    );
  return (
    <Table caption="Local backups on the handset">
      <thead>
        <tr>
          <th scope="col" className={thClass}>
            Name
          </th>
          <th scope="col" className={thClass}>
            Where
          </th>
          <th scope="col" className={thClass}>
            Taken
          </th>
          <th scope="col" className={thClass}>
            Categories
          </th>
          <th scope="col" className={`${thClass} text-right`}>
            Size
          </th>
          <th scope="col" className={thClass}>
            State
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.localId}>
            <td className={`${tdClass} font-mono`}>{r.localId}</td>
            <td className={tdClass}>{r.target === 'smartcard' ? 'smart card' : 'handset storage'}</td>
            <td className={tdClass}>{r.takenAt}</td>
            <td className={tdClass}>{r.categories.join(', ') || '-'}</td>
            <td className={`${tdClass} text-right tabular-nums`}>
              {formatBytes(r.size)} · {plural(r.entries, 'node')}
            </td>
            <td className={tdClass}>
              {r.goneAt !== null ? (
                <Badge tone="warn">gone since {formatTime(r.goneAt)}</Badge>
              ) : (
                <span title={formatTime(r.reportedAt)}>reported {formatAge(r.reportedAt, now)}</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
