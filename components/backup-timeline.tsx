/**
 * A handset's backups over time: the size chart (marker colour by trigger, failed attempts
 * in red, each point linking to the backup), "what changed since <date>", and the list of
 * every attempt with its links: browse, diff with the previous backup, restore.
 */
import Link from 'next/link';
import { TimeChart } from './charts';
import type { TimelinePoint } from '@/lib/devices/views';
import { formatBytes, formatTime } from '@/lib/core/format';
import type { PublicSnapshot } from '@/lib/backup/views';
import { airBytes, airtimeText } from '@/lib/backup/airtime';
import { EmptyState, StatusBadge, Table, buttonClass, inputClass, tdClass, thClass } from './ui';

export function BackupTimeline({ points, tones }: { points: TimelinePoint[]; tones: Record<string, string> }) {
  if (!points.length)
    return (
      <EmptyState title="No backups yet">
        Use “Back up now”, or wait for the handset&apos;s policy to schedule one.
      </EmptyState>
    );
  return (
    <TimeChart
      title={`Backup size over time (${points.length} attempt${points.length === 1 ? '' : 's'})`}
      points={points}
      tones={tones}
      format={formatBytes}
      formatTime={(t) => formatTime(t).slice(0, 16)}
    />
  );
}

/** One click: the handset as it was when the day began against its newest backup. */
export function WhatChangedSince({ deviceId, defaultDay }: { deviceId: string; defaultDay: string }) {
  return (
    <form method="get" action={`/devices/${deviceId}/diff`} className="flex flex-wrap items-end gap-2">
      <div>
        <label htmlFor="since" className="block text-sm font-medium">
          What changed since
        </label>
        <input
          id="since"
          name="since"
          type="date"
          required
          defaultValue={defaultDay}
          className={`${inputClass} w-auto`}
        />
      </div>
      <button type="submit" className={buttonClass('secondary')}>
        Show changes
      </button>
    </form>
  );
}

export function SnapshotList({
  deviceId,
  snapshots,
  previous,
}: {
  deviceId: string;
  snapshots: PublicSnapshot[];
  previous: Record<string, string>;
}) {
  if (!snapshots.length) return null;
  const link = 'text-sky-700 hover:underline';
  return (
    <Table caption="Backups of this handset, newest first">
      <thead>
        <tr>
          <th scope="col" className={thClass}>
            When
          </th>
          <th scope="col" className={thClass}>
            Trigger
          </th>
          <th scope="col" className={thClass}>
            Status
          </th>
          <th scope="col" className={`${thClass} text-right`}>
            Nodes
          </th>
          <th scope="col" className={`${thClass} text-right`}>
            Size
          </th>
          <th scope="col" className={`${thClass} text-right`}>
            New content
          </th>
          <th scope="col" className={`${thClass} text-right`}>
            Over the air
          </th>
          <th scope="col" className={thClass}>
            Links
          </th>
        </tr>
      </thead>
      <tbody>
        {snapshots.map((s) => {
          const prev = previous[s.id];
          return (
            <tr key={s.id} id={`snapshot-${s.id}`} className="target:bg-amber-50">
              <td className={`${tdClass} whitespace-nowrap`}>{formatTime(s.completedAt ?? s.startedAt)}</td>
              <td className={tdClass}>{s.trigger}</td>
              <td className={tdClass}>
                <StatusBadge status={s.status === 'incomplete' && s.error ? 'failed' : s.status} />
                {s.legalHold ? <span className="ml-1 text-xs text-slate-600">legal hold</span> : null}
                {s.error ? <p className="mt-0.5 max-w-xs text-xs text-red-700">{s.error}</p> : null}
              </td>
              <td className={`${tdClass} text-right tabular-nums`}>{s.entries}</td>
              <td className={`${tdClass} text-right tabular-nums`}>{formatBytes(s.bytes)}</td>
              <td className={`${tdClass} text-right tabular-nums`}>{formatBytes(s.newBytes)}</td>
              <td className={`${tdClass} text-right tabular-nums`} title={airtimeText(s.air)}>
                {s.air ? `${formatBytes(airBytes(s.air))} · ${s.air.roundTrips} trips` : '-'}
                {s.changeDetection === 'digest' ? <p className="text-xs text-slate-600">only what changed</p> : null}
                {s.digestDefect ? (
                  <p className="max-w-xs text-xs text-red-700">digest defect: {s.digestDefect}</p>
                ) : null}
              </td>
              <td className={tdClass}>
                {s.status === 'complete' ? (
                  <span className="flex flex-wrap gap-x-3 gap-y-1">
                    <Link href={`/devices/${deviceId}/snapshots/${s.id}`} className={link}>
                      Browse
                    </Link>
                    {prev ? (
                      <Link href={`/devices/${deviceId}/diff?from=${prev}&to=${s.id}`} className={link}>
                        Diff with previous
                      </Link>
                    ) : null}
                    <Link href={`/devices/${deviceId}/restore?snapshot=${s.id}`} className={link}>
                      Restore
                    </Link>
                  </span>
                ) : (
                  <span className="text-xs text-slate-500">not restorable</span>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </Table>
  );
}
