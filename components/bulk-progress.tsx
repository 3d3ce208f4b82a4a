'use client';
/**
 * A bulk operation, live: a progress bar of the handsets whose outcome is known, the jobs'
 * outcomes, why they wait (the wake budget), and Cancel. It polls /live/bulk/{id} every two
 * seconds until nothing more will change.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { ActionResult } from '@/lib/core/action-result';
import { BULK_ACTION_WORDS, type BulkProgress } from '@/lib/bulk/schemas';
import { LocalTime } from './local-time';
import { Button, Card, ErrorNote, Facts, StatusBadge } from './ui';

type Cancel = (prev: null, input: { id: string }) => Promise<ActionResult<{ id: string }>>;

const n = (x: number) => x.toLocaleString('en-GB');

export function BulkProgressView({ initial, cancel }: { initial: BulkProgress; cancel: Cancel }) {
  const qc = useQueryClient();
  const key = ['live-bulk', initial.id];
  const q = useQuery({
    queryKey: key,
    queryFn: async (): Promise<BulkProgress> => {
      const res = await fetch(`/live/bulk/${encodeURIComponent(initial.id)}`, { cache: 'no-store' });
      if (!res.ok)
        throw new Error(
          res.status === 401
            ? 'Your session has ended; please sign in again.'
            : 'This operation can no longer be read.',
        );
      return (await res.json()) as BulkProgress;
    },
    initialData: initial,
    refetchInterval: (s) => (s.state.data?.finished ? false : 2000),
    staleTime: 0,
  });
  const p = q.data;
  const [error, setError] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const queuesJobs = p.action === 'backup' || p.action === 'ds-backup';
  const canCancel = !p.finished && p.status !== 'cancelled' && p.status !== 'failed';

  const onCancel = async () => {
    if (!window.confirm('Cancel this operation? Its jobs that have not started are cancelled.')) return;
    setCancelling(true);
    setError(null);
    const r = await cancel(null, { id: p.id });
    setCancelling(false);
    if (!r.ok) setError(r.error);
    await qc.invalidateQueries({ queryKey: key });
  };

  // The walk may be complete while its jobs still wait for their handsets: that is still running.
  const shown = p.finished
    ? p.status === 'complete'
      ? 'done'
      : p.status
    : p.status === 'complete'
      ? 'running'
      : p.status;
  const tone = p.status === 'failed' ? 'bg-red-600' : p.finished ? 'bg-emerald-600' : 'bg-sky-600';
  return (
    <Card title={BULK_ACTION_WORDS[p.action]} actions={<StatusBadge status={shown} />}>
      <div className="space-y-4">
        <div>
          <div className="flex justify-between text-sm">
            <span>{p.summary}</span>
            <span aria-hidden>{p.percent}%</span>
          </div>
          <div
            role="progressbar"
            aria-label="Progress of the bulk operation"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={p.percent}
            aria-valuetext={`${p.percent}%: ${p.summary}`}
            className="mt-1 h-3 w-full overflow-hidden rounded bg-slate-200"
          >
            <div className={`h-full transition-all ${tone}`} style={{ width: `${p.percent}%` }} />
          </div>
        </div>
        {p.waiting ? (
          <p className="rounded bg-amber-50 p-2 text-sm text-amber-900" role="status">
            {p.waiting} Wakes (Package #0) go out at most {n(p.wakeBudgetPerMinute)} a minute, so the handsets are not
            all called at once.
          </p>
        ) : null}
        <Facts
          items={[
            ['Handsets', `${n(p.handled)} of ${n(p.total)} worked through`],
            ...(queuesJobs
              ? ([
                  ['Succeeded', n(p.jobs.succeeded)],
                  ['Failed', n(p.jobs.failed)],
                  ['Still waiting', n(p.jobs.waiting + p.jobs.running)],
                  ...(p.jobs.cancelled ? ([['Cancelled', n(p.jobs.cancelled)]] as Array<[string, string]>) : []),
                ] as Array<[string, string]>)
              : ([['Changed', n(p.done)]] as Array<[string, string]>)),
            ['Skipped', p.skipped ? `${n(p.skipped)}: ${p.note ?? ''}` : '0'],
            ...(p.noLongerMatched ? ([['No longer matched', n(p.noLongerMatched)]] as Array<[string, string]>) : []),
            ['Ordered by', p.actor],
            ['Ordered', <LocalTime key="at" at={p.createdAt} />],
          ]}
        />
        {p.status === 'failed' && p.note ? <ErrorNote>{p.note}</ErrorNote> : null}
        {q.error ? <ErrorNote>{q.error.message}</ErrorNote> : null}
        {error ? <ErrorNote>{error}</ErrorNote> : null}
        {canCancel ? (
          <Button variant="danger" disabled={cancelling} onClick={() => void onCancel()}>
            Cancel the operation
          </Button>
        ) : null}
      </div>
    </Card>
  );
}
