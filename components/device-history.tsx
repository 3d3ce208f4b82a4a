/**
 * A handset's history for the care agent: every session, failed attempt and Package #0 with
 * why it ended as it did (filterable by kind and outcome with a plain GET form, so it works
 * before scripts load), every job, its consents, and which firmware it ran when.
 */
import Link from 'next/link';
import type {
  ConsentEntry,
  FirmwareRunEntry,
  HistoryEntry,
  HistoryFilter,
  JobHistoryEntry,
} from '@/lib/devices/history';
import { HISTORY_KINDS, HISTORY_OUTCOMES, KIND_LABEL, OUTCOME_LABEL } from '@/lib/devices/history-words';
import { formatBytes } from '@/lib/core/format';
import { LocalTime } from './local-time';
import { Badge, buttonClass, EmptyState, StatusBadge, Table, tdClass, thClass, type Tone } from './ui';

const OUTCOME_TONE: Record<HistoryEntry['outcome'], Tone> = {
  ok: 'good',
  failed: 'bad',
  refused: 'bad',
  'no-answer': 'warn',
  'in-progress': 'info',
};

/** The handset's last attempt in one sentence, at the top of the page. */
export function LastAttempt({ entry }: { entry: HistoryEntry | null }) {
  if (!entry) return <p className="text-sm text-slate-600">This handset has not connected yet.</p>;
  const ok = entry.outcome === 'ok' || entry.outcome === 'in-progress';
  return (
    <p
      className={`rounded-md px-3 py-2 text-sm ${ok ? 'bg-emerald-50 text-emerald-900' : 'bg-red-50 text-red-900'}`}
      data-testid="last-attempt"
    >
      <span className="font-medium">
        Last attempt, <LocalTime at={entry.at} />:
      </span>{' '}
      {/* A failed attempt is one by definition: its outcome says enough. */}
      {entry.kind === 'attempt' ? '' : `${KIND_LABEL[entry.kind]} `}
      {OUTCOME_LABEL[entry.outcome]}
      {entry.reason ? ` — ${entry.reason}` : ''}
    </p>
  );
}

/** The same, short, for a list of handsets. */
export function LastAttemptCell({ entry }: { entry: HistoryEntry | null }) {
  if (!entry) return <span className="text-slate-500">never connected</span>;
  return (
    <span className="text-sm">
      <Badge tone={OUTCOME_TONE[entry.outcome]}>{OUTCOME_LABEL[entry.outcome]}</Badge> <LocalTime at={entry.at} />
      {entry.reason ? <span className="block text-xs text-slate-600">{entry.reason}</span> : null}
    </span>
  );
}

export function SessionHistory({
  deviceId,
  entries,
  total,
  filter,
}: {
  deviceId: string;
  entries: readonly HistoryEntry[];
  total: number;
  filter: HistoryFilter;
}) {
  return (
    <div className="space-y-3">
      <form method="get" action={`/devices/${deviceId}`} className="flex flex-wrap items-end gap-3 text-sm">
        <label className="flex flex-col gap-1">
          <span className="text-slate-700">Kind</span>
          <select name="kind" defaultValue={filter.kind ?? ''} className="rounded border border-slate-300 px-2 py-1">
            <option value="">all</option>
            {HISTORY_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABEL[k]}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1">
          <span className="text-slate-700">Outcome</span>
          <select
            name="outcome"
            defaultValue={filter.outcome ?? ''}
            className="rounded border border-slate-300 px-2 py-1"
          >
            <option value="">all</option>
            {HISTORY_OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {OUTCOME_LABEL[o]}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className={buttonClass('secondary')}>
          Filter
        </button>
        {filter.kind || filter.outcome ? (
          <Link href={`/devices/${deviceId}`} className="text-sky-700 hover:underline">
            Show all {total}
          </Link>
        ) : null}
      </form>
      {entries.length ? (
        <Table caption="Sessions, attempts and Package #0, newest first">
          <thead>
            <tr>
              <th className={thClass}>When</th>
              <th className={thClass}>What</th>
              <th className={thClass}>Started by</th>
              <th className={thClass}>Outcome</th>
              <th className={thClass}>Why</th>
              <th className={thClass}>Messages</th>
              <th className={thClass}>Bytes</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.key} data-kind={e.kind} data-outcome={e.outcome}>
                <td className={`${tdClass} whitespace-nowrap`}>
                  <LocalTime at={e.at} />
                </td>
                <td className={tdClass}>
                  {e.jobId ? (
                    <Link href={`/jobs/${e.jobId}`} className="text-sky-700 hover:underline">
                      {KIND_LABEL[e.kind]}
                    </Link>
                  ) : (
                    KIND_LABEL[e.kind]
                  )}
                </td>
                <td className={tdClass}>{e.startedBy}</td>
                <td className={tdClass}>
                  <Badge tone={OUTCOME_TONE[e.outcome]}>{OUTCOME_LABEL[e.outcome]}</Badge>
                </td>
                <td className={tdClass}>{e.reason ?? ''}</td>
                <td className={`${tdClass} tabular-nums`}>{e.messages ?? '-'}</td>
                <td className={`${tdClass} tabular-nums`}>{e.bytes === null ? '-' : formatBytes(e.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : (
        <EmptyState title={total ? 'Nothing matches this filter' : 'No session yet'}>
          {total ? `None of the ${total} entries is of this kind and outcome.` : 'The handset has not connected yet.'}
        </EmptyState>
      )}
    </div>
  );
}

export function JobHistory({ jobs }: { jobs: readonly JobHistoryEntry[] }) {
  if (!jobs.length)
    return <EmptyState title="No job yet">Backups and restores asked for this handset show here.</EmptyState>;
  return (
    <Table caption="Every job of this handset, newest first">
      <thead>
        <tr>
          <th className={thClass}>Asked</th>
          <th className={thClass}>Job</th>
          <th className={thClass}>By</th>
          <th className={thClass}>Status</th>
          <th className={thClass}>Why</th>
          <th className={thClass}>Attempts</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.id}>
            <td className={`${tdClass} whitespace-nowrap`}>
              <LocalTime at={j.createdAt} />
            </td>
            <td className={tdClass}>
              <Link href={`/jobs/${j.id}`} className="text-sky-700 hover:underline">
                {j.title}
              </Link>
            </td>
            <td className={tdClass}>{j.actor ?? '-'}</td>
            <td className={tdClass}>
              <StatusBadge status={j.status} />
            </td>
            <td className={tdClass}>{j.reason ?? ''}</td>
            <td className={`${tdClass} tabular-nums`}>
              {j.attempts}
              {j.wakes ? ` · ${j.wakes} Package #0` : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

export function DeviceConsents({ consents }: { consents: readonly ConsentEntry[] }) {
  if (!consents.length)
    return (
      <EmptyState title="No consent asked yet">
        A restore asks the handset’s user first; the answers show here.
      </EmptyState>
    );
  return (
    <Table caption="Consent prompts and answers, newest first">
      <thead>
        <tr>
          <th className={thClass}>When</th>
          <th className={thClass}>Answer</th>
          <th className={thClass}>Prompt</th>
          <th className={thClass}>Cost</th>
        </tr>
      </thead>
      <tbody>
        {consents.map((c) => (
          <tr key={c.id}>
            <td className={`${tdClass} whitespace-nowrap`}>
              {c.jobId ? (
                <Link href={`/jobs/${c.jobId}`} className="text-sky-700 hover:underline">
                  <LocalTime at={c.at} />
                </Link>
              ) : (
                <LocalTime at={c.at} />
              )}
            </td>
            <td className={tdClass}>
              <StatusBadge status={c.answer} /> {c.words !== c.answer ? c.words : ''}
            </td>
            <td className={tdClass}>{c.prompt}</td>
            <td className={tdClass}>{c.cost ?? '-'}</td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

/** Firmware runs as bars on one time axis, newest on top, with their dates. */
export function FirmwareHistory({ runs, now }: { runs: readonly FirmwareRunEntry[]; now: number }) {
  if (!runs.length)
    return <EmptyState title="No firmware reported yet">The handset reports its firmware at each session.</EmptyState>;
  const start = Math.min(...runs.map((r) => r.from));
  const span = Math.max(now - start, 1);
  return (
    <ul className="space-y-2" aria-label="Firmware it ran, newest first">
      {runs.map((r) => (
        <li key={`${r.firmware}-${r.from}`} className="text-sm">
          <div className="flex flex-wrap items-baseline justify-between gap-2">
            <span className="font-mono">{r.firmware}</span>
            <span className="text-xs text-slate-600">
              <LocalTime at={r.from} /> – {r.current ? 'now' : <LocalTime at={r.to} />}
            </span>
          </div>
          <div className="relative mt-1 h-2 rounded bg-slate-100" aria-hidden>
            <div
              className={`absolute h-2 rounded ${r.current ? 'bg-sky-600' : 'bg-slate-400'}`}
              style={{
                left: `${((r.from - start) / span) * 100}%`,
                width: `${Math.max(((Math.max(r.to, r.current ? now : r.to) - r.from) / span) * 100, 1)}%`,
              }}
            />
          </div>
        </li>
      ))}
    </ul>
  );
}
