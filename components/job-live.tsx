'use client';
/**
 * A job, live: progress bar, what it waits for, the consent answer, each restore item's
 * outcome and the final status. It polls /live/jobs/{id} every second until the job is
 * over, then stops; "Retry failed items" (agents) starts it polling again.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { ActionResult } from '@/lib/core/action-result';
import { formatBytes, formatTime } from '@/lib/core/format';
import type { LiveJob } from '@/lib/jobs/live';
import { useToast } from './toast';
import { Button, Card, ErrorNote, Facts, StatusBadge, Table, tdClass, thClass } from './ui';

export function useLiveJob(initial: LiveJob) {
  return useQuery({
    queryKey: ['live-job', initial.job.id],
    queryFn: async (): Promise<LiveJob> => {
      const res = await fetch(`/live/jobs/${encodeURIComponent(initial.job.id)}`, { cache: 'no-store' });
      if (!res.ok)
        throw new Error(
          res.status === 401 ? 'Your session has ended; please sign in again.' : 'This job can no longer be read.',
        );
      return (await res.json()) as LiveJob;
    },
    initialData: initial,
    refetchInterval: (q) => (q.state.data?.finished ? false : 1000),
    staleTime: 0,
  });
}

export function JobProgress({ live, label }: { live: LiveJob; label: string }) {
  const p = live.percent;
  return (
    <div>
      <div className="flex justify-between text-sm">
        <span>{live.summary}</span>
        <span aria-hidden>{p === null ? '' : `${p}%`}</span>
      </div>
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={p ?? undefined}
        aria-valuetext={p === null ? live.summary : `${p}%: ${live.summary}`}
        className="mt-1 h-3 w-full overflow-hidden rounded bg-slate-200"
      >
        <div
          className={`h-full transition-all ${live.job.status === 'failed' || live.job.status === 'rejected' ? 'bg-red-600' : live.job.status === 'succeeded' ? 'bg-emerald-600' : 'bg-sky-600'} ${p === null && !live.finished ? 'w-1/3 animate-pulse' : ''}`}
          style={p === null ? undefined : { width: `${p}%` }}
        />
      </div>
    </div>
  );
}

/** An item's outcome in words; a folder's Add answers 418 when the handset has it already. */
function itemDetail(i: {
  kind: string;
  op: string;
  status: string;
  code: number | null;
  detail: string | null;
}): string {
  if (i.detail) return i.detail;
  if (i.kind === 'node' && i.op === 'add' && i.code === 418) return 'already on the handset';
  if (i.kind === 'node' && i.op === 'add' && i.code === 200 && i.status === 'verified') return 'made on the handset';
  return i.code ? `status ${i.code}` : '';
}

/** An item as a subscriber names it: "Ringtones: Marimba", "An app", "The firmware". */
function plainItem(i: { kind: string; path: string }): string {
  if (i.kind === 'firmware') return 'The firmware';
  const parts = i.path.split('/').filter((p) => p && p !== '.');
  const name = parts.at(-1) ?? '';
  if (i.kind === 'app') return `The app ${name}`;
  return parts.length > 1 ? `${parts.at(-2)}: ${name}` : name;
}

const KIND_WORDS: Record<string, string> = {
  backup: 'Backup',
  restore: 'Restore',
  'local-backup': 'Backup on the handset',
  'local-restore': 'Restore from the handset',
};

export function JobLive({
  initial,
  retry,
  deviceHref,
  undo,
}: {
  initial: LiveJob;
  /** Agents: "Retry failed items" for a failed restore. */
  retry?: (prev: null, input: { jobId: string }) => Promise<ActionResult<{ jobId: string }>>;
  /** Where the handset's page is (console or portal). */
  deviceHref: string;
  /** "Put it back as it was before this restore", offered once a restore has ended. */
  undo?: ReactNode;
}) {
  const q = useLiveJob(initial);
  const live = q.data;
  const job = live.job;
  // The portal's pages live under /portal: a subscriber reads the job in plain words, without
  // node paths, alert codes, Package #0 or the folders a restore makes first.
  const plain = deviceHref.startsWith('/portal/');
  const qc = useQueryClient();
  const toast = useToast();
  const [retrying, setRetrying] = useState(false);
  const [retryError, setRetryError] = useState<string | null>(null);
  const items = 'items' in job ? job.items : null;
  const consents = 'consents' in job ? job.consents : [];
  // Folders are the items other items sit under (the plan makes them first).
  const folders = new Set(items?.filter((i) => items.some((o) => o.path.startsWith(`${i.path}/`))).map((i) => i.path));
  const failedItems = items?.filter((i) => i.status === 'failed' || i.status === 'mismatch').length ?? 0;

  const onRetry = async () => {
    if (!retry) return;
    setRetrying(true);
    setRetryError(null);
    const r = await retry(null, { jobId: job.id });
    setRetrying(false);
    if (!r.ok) {
      setRetryError(r.error);
      return;
    }
    toast('Failed items queued again');
    await qc.invalidateQueries({ queryKey: ['live-job', job.id] });
  };

  return (
    <div className="space-y-4">
      <Card
        title={
          <span className="flex items-center gap-2">
            {KIND_WORDS[job.kind] ?? job.kind}{' '}
            <span aria-live="polite">
              <StatusBadge status={job.status} />
            </span>
          </span>
        }
      >
        <JobProgress live={live} label={`${KIND_WORDS[job.kind] ?? job.kind} progress`} />
        <div aria-live="polite" className="mt-3 space-y-2 text-sm">
          {live.waiting ? (
            <p className="rounded border border-amber-200 bg-amber-50 px-3 py-2 text-amber-900">{live.waiting}</p>
          ) : null}
          {live.finished ? (
            <p className={job.status === 'succeeded' ? 'text-emerald-800' : 'text-red-800'}>
              {job.status === 'succeeded'
                ? job.kind === 'restore' || job.kind === 'local-restore'
                  ? 'Finished: everything was put back on the handset and checked.'
                  : 'Finished: the backup is complete.'
                : `Ended ${job.status}${job.error ? `: ${job.error}` : ''}.`}
            </p>
          ) : null}
          {q.isError ? <ErrorNote>{q.error.message}</ErrorNote> : null}
        </div>
        <div className="mt-3">
          <Facts
            items={[
              [
                'Handset',
                <Link key="d" className="underline" href={deviceHref}>
                  {live.device.label} ({live.device.devId})
                </Link>,
              ],
              ...('reason' in job && job.reason ? [['Why', job.reason] as [string, string]] : []),
              ['Queued', formatTime(job.createdAt)],
              ['Last change', formatTime(job.updatedAt)],
              ['Attempts', String(job.attempts)],
              ...(live.wakes && !plain ? [['Package #0', live.wakes] as [string, string]] : []),
              ...(live.consent ? [['Consent', live.consent] as [string, string]] : []),
              ...(live.backup
                ? [
                    [
                      plain ? 'Items backed up' : 'Nodes fetched',
                      `${live.backup.nodes}${live.backup.expectedNodes ? ` (last backup had ${live.backup.expectedNodes})` : ''}`,
                    ] as [string, string],
                    ['New content stored', formatBytes(live.backup.newBytes)] as [string, string],
                  ]
                : []),
            ]}
          />
        </div>
        {retry && job.kind === 'restore' && live.finished && failedItems > 0 ? (
          <div className="mt-3 flex flex-wrap items-center gap-3">
            <Button onClick={onRetry} disabled={retrying}>
              {retrying ? 'Queueing…' : `Retry failed items (${failedItems})`}
            </Button>
            {retryError ? <ErrorNote>{retryError}</ErrorNote> : null}
          </div>
        ) : null}
      </Card>

      {undo &&
      job.kind === 'restore' &&
      live.dependsOn &&
      live.finished &&
      (job.status === 'succeeded' || job.status === 'failed') ? (
        <Card title="Undo">{undo}</Card>
      ) : null}

      {job.kind === 'restore' && !live.dependsOn ? (
        <Card title="No safety backup">
          <p className="text-sm">
            No backup of the handset was taken before this restore (its policy turns the safety backup off), so it
            cannot be undone.
          </p>
        </Card>
      ) : null}

      {live.dependsOn ? (
        <Card title="Safety backup first">
          <p className="text-sm">
            <StatusBadge status={live.dependsOn.status} /> A backup of the handset as it is now, taken before anything
            is written{live.dependsOn.finished ? '' : '; the restore starts when it has finished'}.
            {live.dependsOn.error ? ` ${live.dependsOn.error}` : ''}
          </p>
        </Card>
      ) : null}

      {consents.length ? (
        <Card title="Consent on the handset">
          <ul className="space-y-2 text-sm">
            {consents.map((c) => (
              <li key={c.id} className="flex flex-wrap items-baseline gap-2">
                <StatusBadge status={c.answer} />
                <span className="text-slate-600">
                  {formatTime(c.at)}
                  {plain ? '' : ` · alert ${c.code}`}
                  {c.cost ? ` · ${c.cost}` : ''}
                </span>
                <span className="w-full text-slate-700">“{c.prompt}”</span>
              </li>
            ))}
          </ul>
        </Card>
      ) : null}

      {items && plain ? (
        <Card title={`What is put back (${items.filter((i) => !folders.has(i.path)).length})`}>
          <ul className="divide-y divide-slate-100 text-sm" aria-label="Each thing put back and how it went">
            {items
              .filter((i) => !folders.has(i.path))
              .map((i) => (
                <li key={i.seq} className="flex flex-wrap items-center justify-between gap-2 py-1.5">
                  <span className="min-w-0 break-words">{plainItem(i)}</span>
                  <StatusBadge status={i.status} />
                </li>
              ))}
          </ul>
        </Card>
      ) : items ? (
        <Card title={`Items (${items.length})`}>
          <Table caption="Each item of the restore and its outcome">
            <thead>
              <tr>
                <th className={thClass}>#</th>
                <th className={thClass}>What</th>
                <th className={thClass}>Path</th>
                <th className={thClass}>Status</th>
                <th className={thClass}>Detail</th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => (
                <tr key={i.seq}>
                  <td className={tdClass}>{i.seq}</td>
                  <td className={tdClass}>
                    {i.kind === 'node'
                      ? folders.has(i.path)
                        ? 'folder'
                        : 'write'
                      : i.kind === 'app'
                        ? 'install app'
                        : 'firmware'}
                  </td>
                  <td className={`${tdClass} font-mono text-xs break-all`}>{i.path}</td>
                  <td className={tdClass}>
                    <StatusBadge status={i.status} />
                  </td>
                  <td className={`${tdClass} text-xs text-slate-600`}>{itemDetail(i)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        </Card>
      ) : null}
    </div>
  );
}

/** A job's progress in a line (the portal's device list after "Back up now"); the full view is a link away. */
export function JobLiveMini({
  jobId,
  href,
  onFinished,
}: {
  jobId: string;
  href: string;
  /** Heard once when the job ends while followed (the page around it can then show the new backup). */
  onFinished?: () => void;
}) {
  const q = useQuery({
    queryKey: ['live-job', jobId],
    queryFn: async (): Promise<LiveJob> => {
      const res = await fetch(`/live/jobs/${encodeURIComponent(jobId)}`, { cache: 'no-store' });
      if (!res.ok) throw new Error('The backup’s progress cannot be read right now.');
      return (await res.json()) as LiveJob;
    },
    refetchInterval: (s) => (s.state.data?.finished ? false : 1000),
    staleTime: 0,
  });
  const finished = q.data?.finished ?? false;
  // Only an end seen here: a job already over when the page loaded is on the page already.
  const sawRunning = useRef(false);
  useEffect(() => {
    if (q.data && !finished) sawRunning.current = true;
    else if (finished && sawRunning.current) {
      sawRunning.current = false;
      onFinished?.();
    }
  }, [q.data, finished, onFinished]);
  if (q.isError) return <p className="text-sm text-red-700">{q.error.message}</p>;
  if (!q.data) return <p className="text-sm text-slate-600">Checking the backup…</p>;
  const live = q.data;
  return (
    <div className="space-y-1" aria-live="polite">
      <div className="flex items-center gap-2 text-sm">
        <StatusBadge status={live.job.status} />
        <span>
          {live.waiting ??
            (live.finished
              ? live.job.status === 'succeeded'
                ? 'Backup complete'
                : `Backup ${live.job.status}${live.job.error ? `: ${live.job.error}` : ''}`
              : 'Backing up…')}
        </span>
        <Link className="ml-auto text-sky-800 underline" href={href}>
          Details
        </Link>
      </div>
      <JobProgress live={live} label="Backup progress" />
    </div>
  );
}
