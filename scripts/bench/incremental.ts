/**
 * Backups that move only what changed (lib/backup/incremental.ts): every figure beside the
 * full fetch of the same handsets in the same run. The baseline is the server told that the
 * models have no digests (their remembered change detection set to 'none'), so the same
 * handsets, the same server and the same store are walked in full as before digests.
 *
 * - one handset of a model with digests (Nimbus N1, a real handset's media, XML and then
 *   WBXML), unchanged since its last backup: round trips and bytes over the air of the
 *   session, both directions (goal: at most 3 and 8 KB); the same for a model without
 *   digests that keeps VerNo per node (Korra K9) and one that keeps TStamp (Korra K5);
 * - the same handset with one 5 KB value changed: bytes over the air (goal: the value, as
 *   sent on the wire, plus at most 8 KB);
 * - 200 handsets of the models with digests at once (handsets in a child process, as in
 *   dm.ts and backup.ts; `rewind sim`'s media size, about 180 nodes and 600 KB each),
 *   unchanged: backups per second, digests against full fetches (goal: at least 10 times).
 *
 *   npx tsx scripts/bench/incremental.ts
 */
import { pathToFileURL } from 'node:url';
import { formatRows, type Row } from './codec';
import { backupFleetClient } from './backup';
import type { Db } from '../../db/client';

const KB = 1024;

export async function benchIncremental(opts: { devices?: number } = {}): Promise<Row[]> {
  const devices = opts.devices ?? 200;
  process.env.LOG_LEVEL = 'silent';
  delete process.env.PUBLIC_URL;
  const { sql } = await import('drizzle-orm');
  const { exec, value } = await import('../../db/sql');
  const { startTestFleet } = await import('../../test/support/test-fleet');
  const { startTestServer } = await import('../../test/support/test-server');
  const { createBackupJob } = await import('../../lib/backup/jobs');
  const { getDeviceByDevId } = await import('../../db/queries/devices');
  const { getJob } = await import('../../db/queries/jobs');
  const { getSnapshot } = await import('../../db/queries/snapshots');
  const { CATEGORIES } = await import('../../lib/omadm/mo/backup-restore');

  /**
   * Off: every model remembered as without digests or node properties (a full fetch, as
   * before them); on: what the models had learned again (their handsets' backups need not
   * learn it anew). `learned` is read once the models have learned.
   */
  const learned = new Map<Db, Array<{ id: string; how: string | null }>>();
  const remember = async (db: Db) => {
    const { deviceModels } = await import('../../db/schema');
    learned.set(
      db,
      (await db.select().from(deviceModels)).map((m) => ({ id: m.id, how: m.changeDetection })),
    );
  };
  const digests = async (db: Db, on: boolean) => {
    if (!on)
      return exec(db, sql`update device_models set change_detection = 'none', change_detection_at = ${Date.now()}`);
    for (const m of learned.get(db) ?? [])
      await exec(db, sql`update device_models set change_detection = ${m.how} where id = ${m.id}`);
  };
  const rows: Row[] = [];

  // --- One handset, a real handset's media: the session's cost over the air.
  const methods = [
    ['nimbus-n1', 'digest', 'digests'],
    ['korra-k9', 'verno', 'VerNo'],
    ['korra-k5', 'tstamp', 'TStamp'],
  ] as const;
  for (const [model, how, label] of methods)
    for (const encoding of ['xml', 'wbxml'] as const) {
      const fleet = await startTestFleet({ devices: 1, seed: 5, models: [model], mediaScale: 1, encoding });
      try {
        const h = fleet.handsets[0]!;
        const session = async () => {
          const device = (await getDeviceByDevId(fleet.ctx.db, h.devId))!;
          const { job } = await createBackupJob(fleet.ctx.db, device, {
            trigger: 'on-demand',
            actor: 'bench',
            categories: [...CATEGORIES],
          });
          const s = await h.connect({ initiator: 'client' });
          const done = (await getJob(fleet.ctx.db, job.id))!;
          if (!s.ok || done.status !== 'succeeded')
            throw new Error(`incremental bench: ${done.error ?? s.error?.message}`);
          const snap = (await getSnapshot(
            fleet.ctx.db,
            (JSON.parse(done.result!) as { snapshotId: string }).snapshotId,
          ))!;
          return { trips: s.messagesOut, bytes: s.bytesIn + s.bytesOut, up: s.bytesOut, down: s.bytesIn, snap };
        };
        const kb = (n: number) => `${(n / KB).toFixed(1)} KB`;
        await session(); // the first backup: everything, whatever the method
        await session(); // the second: the model learns how it tells what changed
        await remember(fleet.ctx.db);
        await digests(fleet.ctx.db, false);
        const full = await session();
        await digests(fleet.ctx.db, true);
        // Node properties compare with the values the last snapshot kept, which a full fetch
        // without them did not: one backup with them first (not measured).
        if (how !== 'digest') await session();
        const inc = await session();
        if (inc.snap.rootHash !== full.snap.rootHash || inc.snap.changeDetection !== how)
          throw new Error(`incremental bench: the unchanged backup did not use ${label} or differs from the full one`);
        rows.push({
          name: `unchanged handset (${inc.snap.entries} nodes, ${kb(inc.snap.bytes)}), ${label}, ${encoding}: round trips`,
          value: inc.trips,
          unit: 'round trips',
          baseline: `full fetch ${full.trips}; goal ≤ 3`,
        });
        rows.push({
          name: `unchanged handset, ${label}, ${encoding}: over the air, both directions`,
          value: Math.round((inc.bytes / KB) * 10) / 10,
          unit: 'KB',
          baseline: `full fetch ${kb(full.bytes)} (${kb(full.up)} up, ${kb(full.down)} down); goal ≤ 8 KB`,
        });
        // One 5 KB value changed: that value travels, and little else.
        const leaf = h.tree
          .walk('./Vendor')
          .concat(h.tree.walk('./Settings'))
          .find((n) => n.node.kind === 'leaf' && n.node.access.includes('Get'));
        if (!leaf) throw new Error('incremental bench: no settings leaf to change');
        const value5k = (seed: number) => new Uint8Array(5 * KB).map((_, i) => (i * 131 + seed) & 255);
        h.tree.set(leaf.path, value5k(1), { format: 'bin' });
        await digests(fleet.ctx.db, false);
        const fullChanged = await session();
        await digests(fleet.ctx.db, true);
        if (how !== 'digest') await session();
        h.tree.set(leaf.path, value5k(2), { format: 'bin' });
        const incChanged = await session();
        if (incChanged.snap.changeDetection !== how)
          throw new Error(`incremental bench: the change was not found by ${label}`);
        // On the wire the value is base64 in XML, raw bytes in WBXML.
        const wire = encoding === 'xml' ? Math.ceil((5 * KB * 4) / 3) : 5 * KB;
        rows.push({
          name: `one 5 KB value changed, ${label}, ${encoding}: over the air beyond the value (${kb(wire)} on the wire)`,
          value: Math.round(((incChanged.bytes - wire) / KB) * 10) / 10,
          unit: 'KB',
          baseline: `full fetch ${kb(fullChanged.bytes)} in ${fullChanged.trips} round trips (${incChanged.trips} now); goal ≤ 8 KB`,
        });
      } finally {
        await fleet.close();
      }
    }

  // --- 200 handsets at once, unchanged: backups per second.
  const ts = await startTestServer();
  const client = await backupFleetClient(ts);
  try {
    await client.next('ready');
    const round = async (concurrency = devices) => {
      const since = Date.now();
      const done = client.next('fleet-done');
      client.send({
        cmd: 'fleet',
        server: ts.dmUrl,
        devices,
        seed: 42,
        concurrency,
        encoding: 'mixed',
        models: ['nimbus-n1', 'nimbus-n2'],
        // `rewind sim`'s handsets (media at a tenth of a real handset's: about 180 nodes and 600 KB).
        mediaScale: 0.1,
        // 200 full fetches at once queue for minutes on a shared 2-core machine: slow, not failed.
        messageTimeoutMs: 180_000,
      });
      const r = await done;
      if (r.summary.failed > 0)
        throw new Error(
          `incremental bench: ${r.summary.failed} sessions failed (${JSON.stringify(r.summary.errorsByKind)})`,
        );
      const made = Number(
        await value(
          ts.ctx.db,
          sql`select count(*) as n from snapshots where status = 'complete' and started_at >= ${since}`,
        ),
      );
      if (made !== devices) throw new Error(`incremental bench: ${made} of ${devices} backups completed`);
      return {
        since,
        perSecond: devices / (r.windowMs / 1000),
        messages: r.summary.messages,
        bytes: r.summary.bytesIn + r.summary.bytesOut,
      };
    };
    await round(50); // the first backups: everything is new, a gentler start (not measured)
    await round(); // the models learn they have digests (not measured)
    await remember(ts.ctx.db);
    await digests(ts.ctx.db, false);
    const full = await round();
    await digests(ts.ctx.db, true);
    const inc = await round();
    const modes = await value(
      ts.ctx.db,
      sql`select count(*) as n from snapshots where status = 'complete' and change_detection = 'digest' and started_at >= ${inc.since}`,
    );
    if (Number(modes) !== devices) throw new Error(`incremental bench: ${String(modes)} of ${devices} used digests`);
    rows.push({
      name: `unchanged backups/s, ${devices} handsets at once (digests)`,
      value: Math.round(inc.perSecond * 10) / 10,
      unit: 'backups/s',
      baseline: `full fetch ${full.perSecond.toFixed(1)}/s: ${(inc.perSecond / full.perSecond).toFixed(1)}×; goal ≥ 10×`,
    });
    rows.push({
      name: `the ${devices} unchanged backups: DM messages / MB over the air`,
      value: inc.messages,
      unit: `msgs, ${(inc.bytes / KB / KB).toFixed(2)} MB`,
      baseline: `full fetch ${full.messages} msgs, ${(full.bytes / KB / KB).toFixed(2)} MB`,
    });
  } finally {
    await client.stop().catch(() => undefined);
    await ts.close();
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchIncremental().then(
    (rows) => console.log(formatRows(rows)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
