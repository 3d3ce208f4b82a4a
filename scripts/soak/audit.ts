/**
 * The soak's accounting, from the database and the blob store once the server has stopped:
 *   completed  jobs that succeeded and whose result holds (below);
 *   failed     jobs that ended failed, rejected or cancelled — "injected" when one of the
 *              handset's sessions lost its connection to an injected fault while the job
 *              was open, otherwise not (a real failure);
 *   lost       a job still queued or running after the drain; work the run started that
 *              never got a job (`unfinished`); a succeeded backup whose snapshot is gone
 *              without retention having removed it, is not complete, or does not verify
 *              (lib/backup/verify.ts: the manifest and every value re-hashed); a succeeded
 *              restore with an item not read back as written; any complete snapshot that
 *              does not verify.
 * And the anomalies: complete snapshots whose backup job did not succeed, and jobs with more
 * than one.
 */
import { listAudit } from '../../db/queries/audit';
import { getJob, jobsForDevice } from '../../db/queries/jobs';
import { listItems } from '../../db/queries/restore';
import { getSnapshot } from '../../db/queries/snapshots';
import { verifyAll } from '../../lib/backup/verify';
import type { AppContext } from '../../lib/core/context';
import type { SoakHandset } from './fleet';
import { END } from './load';

export interface SoakAudit {
  total: number;
  completed: number;
  failedInjected: number;
  failedNotInjected: number;
  byKind: Record<string, Record<string, number>>;
  notInjectedFailures: string[];
  lostDetails: string[];
  snapshots: { complete: number; verifyFailed: number; prunedByRetention: number };
  anomalies: string[];
}

export async function auditRun(
  ctx: AppContext,
  handsets: Iterable<SoakHandset>,
  unfinished: readonly string[],
): Promise<SoakAudit> {
  const db = ctx.db;
  const byKind: SoakAudit['byKind'] = {};
  const notInjectedFailures: string[] = [];
  const lostDetails: string[] = [];
  let total = 0;
  let completed = 0;
  let failedInjected = 0;
  let failedNot = 0;
  let pruned = 0;
  const verification = await verifyAll(db, ctx.blobs);
  const badSnapshots = new Set(verification.results.filter((r) => !r.ok).map((r) => r.snapshotId));
  for (const r of verification.results.filter((x) => !x.ok))
    lostDetails.push(
      `snapshot ${r.snapshotId} does not verify: manifest ${r.manifest}, ${r.missing.length} missing, ${r.damaged.length} damaged`,
    );
  for (const s of handsets) {
    const removed = new Set<string>();
    for (const a of await listAudit(db, { deviceId: s.deviceId, action: 'snapshots.pruned' }, 100_000)) {
      // Each removal is { id, reason } (older rows: the id alone).
      for (const r of (JSON.parse(a.details ?? '{}') as { removed?: Array<string | { id: string }> }).removed ?? [])
        removed.add(typeof r === 'string' ? r : r.id);
    }
    for (const job of await jobsForDevice(db, s.deviceId, undefined, 100_000)) {
      total++;
      const k = (byKind[job.kind] ??= {});
      k[job.status] = (k[job.status] ?? 0) + 1;
      const what = `${job.kind} job ${job.id} of ${s.h.devId}`;
      if (!END.has(job.status)) {
        lostDetails.push(`${what} still ${job.status} after the drain${job.error ? ` (${job.error})` : ''}`);
        continue;
      }
      if (job.status !== 'succeeded') {
        const injected = s.injectedAt.some((t) => t >= job.createdAt - 1000 && t <= job.updatedAt + 1000);
        if (injected) failedInjected++;
        else {
          failedNot++;
          notInjectedFailures.push(`${what} ${job.status}: ${job.error ?? 'no reason given'}`);
        }
        continue;
      }
      let lost: string | undefined;
      if (job.kind === 'backup') {
        const snapshotId = (JSON.parse(job.result ?? '{}') as { snapshotId?: string }).snapshotId;
        const snap = snapshotId ? await getSnapshot(db, snapshotId) : undefined;
        if (!snapshotId) lost = 'succeeded without a snapshot';
        else if (!snap) {
          if (removed.has(snapshotId)) pruned++;
          else lost = `its snapshot ${snapshotId} is gone and retention did not remove it`;
        } else if (snap.status !== 'complete') lost = `its snapshot ${snapshotId} is ${snap.status}`;
        else if (badSnapshots.has(snapshotId)) lost = `its snapshot ${snapshotId} does not verify`;
      } else if (job.kind === 'restore') {
        // 'unchanged': the safety backup read the handset holding the backup's value already, so
        // the restore did not send it; that is the restore's result, not lost work.
        const bad = (await listItems(db, job.id)).filter(
          (i) => i.status !== 'verified' && i.status !== 'skipped' && i.status !== 'unchanged',
        );
        if (bad.length)
          lost = `${bad.length} item(s) not read back as written (${bad
            .slice(0, 3)
            .map((i) => `${i.path} ${i.status}`)
            .join(', ')})`;
      }
      if (lost) lostDetails.push(`${what}: ${lost}`);
      else completed++;
    }
  }
  for (const u of unfinished) lostDetails.push(u);
  // A complete snapshot belongs to a backup that succeeded; one that does not is reported.
  // and a backup is one snapshot: a job with two complete ones ran twice to its end.
  const anomalies: string[] = [];
  const perJob = new Map<string, string[]>();
  for (const r of verification.results) {
    const jobId = (await getSnapshot(db, r.snapshotId))?.jobId;
    if (!jobId) continue;
    perJob.set(jobId, [...(perJob.get(jobId) ?? []), r.snapshotId]);
    const job = await getJob(db, jobId);
    if (job?.status !== 'succeeded')
      anomalies.push(`snapshot ${r.snapshotId} is complete but its job ${jobId} is ${job?.status ?? 'gone'}`);
  }
  for (const [jobId, ids] of perJob)
    if (ids.length > 1) anomalies.push(`backup job ${jobId} has ${ids.length} complete snapshots (${ids.join(', ')})`);
  return {
    total,
    completed,
    failedInjected,
    failedNotInjected: failedNot,
    byKind,
    notInjectedFailures,
    lostDetails,
    snapshots: { complete: verification.snapshots, verifyFailed: verification.failed, prunedByRetention: pruned },
    anomalies,
  };
}
