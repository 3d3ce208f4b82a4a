/**
 * Restore benchmark: about 10 MB of app data (ringtones, wallpapers, screensavers, the
 * largest well over a Large Object's worth) restored to a virtual handset over loopback
 * through the real /dm endpoint: every byte written, then read back. The figure is the
 * restore itself, from the end of its safety backup to the verified last item, in wall time
 * and in this process's CPU time (server and handset both run here, so the CPU figure holds
 * on a busy machine); the whole job (safety backup included) is shown beside it. Then the
 * same restore to a handset already equal to the backup: values written and bytes over the
 * air after the safety backup.
 *
 *   npx tsx scripts/bench/restore.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatRows, type Row } from './codec';
import type { RestorePlan } from '../../lib/restore/plan';

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
  const { getPlan, listItems } = await import('../../db/queries/restore');
  const { isValueStep } = await import('../../lib/restore/plan');

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

    // Bytes both ways, and value writes, once the safety backup has ended (checked after each exchange).
    let after: (() => Promise<boolean>) | undefined;
    let airBytes = 0;
    const inner = handset.transport;
    handset.transport = async (req) => {
      const counting = after ? await after() : false;
      const reply = await inner(req);
      if (counting) airBytes += (req.body?.length ?? 0) + reply.body.length;
      else if (after && (await after())) airBytes += reply.body.length;
      return reply;
    };
    const run = async () => {
      const { row } = await createPlan(ts.ctx, { snapshotId, categories: ['appdata'] }, 'bench');
      const t0 = Date.now();
      const { job, backup: safety } = await executePlan(ts.ctx, row.id, 'bench', 'bench');
      // The bench's handset follows the default policy, which takes a safety backup first.
      const backup = safety!;
      let cpuAtBackup: NodeJS.CpuUsage | undefined;
      after = async () => {
        const done = (await getJob(ts.ctx.db, backup.id))!.status === 'succeeded';
        if (done && !cpuAtBackup) cpuAtBackup = process.cpuUsage();
        return done;
      };
      airBytes = 0;
      await dispatchWakes(ts.ctx);
      await handset.idle();
      const cpu = process.cpuUsage(cpuAtBackup);
      after = undefined;
      const done = (await getJob(ts.ctx.db, job.id))!;
      if (done.status !== 'succeeded') throw new Error(`restore bench: the restore ${done.status}: ${done.error}`);
      const plan = JSON.parse((await getPlan(ts.ctx.db, row.id))!.plan) as RestorePlan;
      const steps = new Map(plan.steps.map((st) => [st.seq, st]));
      const written = (await listItems(ts.ctx.db, job.id, ['verified']))
        .map((i) => steps.get(i.seq)!)
        .filter(isValueStep);
      return {
        totalMs: done.updatedAt - t0,
        restoreMs: done.updatedAt - (await getJob(ts.ctx.db, backup.id))!.updatedAt,
        cpuMs: (cpu.user + cpu.system) / 1000,
        values: written.length,
        bytes: written.reduce((n, st) => n + st.size, 0),
        airBytes,
      };
    };
    const runs = [];
    for (let i = 0; i < (opts.runs ?? 3); i++) {
      handset.damage('appdata');
      runs.push(await run());
    }
    const equal = await run();
    const median = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)]!;
    const bytes = median(runs.map((r) => r.bytes));
    return [
      {
        name: `restore of ${(bytes / 1024 / 1024).toFixed(1)} MB app data, written and read back`,
        value: median(runs.map((r) => r.restoreMs)),
        unit: 'ms',
        baseline: 'was 1300 ms; goal < 1000 ms',
      },
      { name: '  its CPU time (server and handset)', value: median(runs.map((r) => r.cpuMs)), unit: 'ms' },
      { name: '  the same job with its safety backup first', value: median(runs.map((r) => r.totalMs)), unit: 'ms' },
      {
        name: 'restore to a handset already equal: values written',
        value: equal.values,
        unit: 'values',
        baseline: `was ${median(runs.map((r) => r.values))} (every value); goal 0`,
      },
      {
        name: '  bytes over the air after the safety backup',
        value: equal.airBytes,
        unit: 'B',
        baseline: `was ${median(runs.map((r) => r.airBytes))} B (every value, written and read back); goal ≤ 8192 B`,
      },
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
