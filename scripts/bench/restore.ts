/**
 * Restore benchmark: about 10 MB of app data (ringtones, wallpapers, screensavers, the
 * largest well over a Large Object's worth) restored to a virtual handset over loopback
 * through the real /dm endpoint: every byte written, then read back. The figure is the
 * restore itself, from the end of its safety backup to the verified last item; the whole
 * job (safety backup included) is shown beside it.
 *
 *   npx tsx scripts/bench/restore.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatRows, type Row } from './codec';

export async function benchRestore(opts: { runs?: number } = {}): Promise<Row[]> {
  process.env.LOG_LEVEL = 'silent';
  delete process.env.PUBLIC_URL;
  const { startTestServer } = await import('../../test/support/test-server');
  const { openFleet } = await import('../../sim/fleet');
  const { describeVirtualModels, provisionFleet } = await import('../../sim/provision');
  const { createBackupJob } = await import('../../lib/backup/jobs');
  const { createPlan } = await import('../../lib/restore/plan');
  const { executePlan } = await import('../../lib/restore/engine');
  const { getDeviceByDevId } = await import('../../db/queries/devices');
  const { getJob } = await import('../../db/queries/jobs');
  const { dispatchWakes } = await import('../../lib/jobs/wake-dispatcher');

  const ts = await startTestServer();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-bench-restore-'));
  try {
    await describeVirtualModels(ts.ctx.db);
    // The model with the largest messages (128 KB), media scaled to about 10 MB in all.
    const [h] = openFleet({
      server: ts.dmUrl,
      devices: 1,
      stateDir,
      encoding: 'wbxml',
      auth: 'md5',
      mediaScale: 2.95,
      seed: 5,
      models: ['nimbus-n2'],
    });
    const handset = h!;
    await provisionFleet(ts.ctx.db, [{ ...handset.identity, nonces: { ...handset.state.nonces } }], {
      inprocPush: true,
    });
    handset.listen(ts.ctx.push.inproc);
    const device = (await getDeviceByDevId(ts.ctx.db, handset.devId))!;
    const { job: b } = await createBackupJob(ts.ctx.db, device, { trigger: 'on-demand', actor: 'bench' });
    await handset.connect({ initiator: 'client' });
    const backedUp = (await getJob(ts.ctx.db, b.id))!;
    if (backedUp.status !== 'succeeded')
      throw new Error(`restore bench: the first backup ${backedUp.status}: ${backedUp.error}`);
    const snapshotId = (JSON.parse(backedUp.result!) as { snapshotId: string }).snapshotId;

    const restoreMs: number[] = [];
    const totalMs: number[] = [];
    let bytes = 0;
    for (let i = 0; i < (opts.runs ?? 3); i++) {
      handset.damage('appdata');
      const { row, plan } = await createPlan(ts.ctx, { snapshotId, categories: ['appdata'] }, 'bench');
      bytes = plan.bytes;
      const t0 = Date.now();
      const { job, backup } = await executePlan(ts.ctx, row.id, 'bench');
      await dispatchWakes(ts.ctx);
      await handset.idle();
      const done = (await getJob(ts.ctx.db, job.id))!;
      if (done.status !== 'succeeded') throw new Error(`restore bench: the restore ${done.status}: ${done.error}`);
      totalMs.push(done.updatedAt - t0);
      restoreMs.push(done.updatedAt - (await getJob(ts.ctx.db, backup.id))!.updatedAt);
    }
    const median = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)]!;
    return [
      {
        name: `restore of ${(bytes / 1024 / 1024).toFixed(1)} MB app data, written and read back`,
        value: median(restoreMs),
        unit: 'ms',
        baseline: 'goal < 2000 ms',
      },
      { name: '  the same job with its safety backup first', value: median(totalMs), unit: 'ms' },
    ];
  } finally {
    await ts.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchRestore().then(
    (rows) => console.log(formatRows(rows)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
