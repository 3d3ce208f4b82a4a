/**
 * The alert rules over real job rows: a streak of failed backups raises one alert, a good
 * backup resolves it and the next streak raises a new one; a rejected restore raises its alert
 * and queues `restore.rejected` for the webhook that asked for it, once however often it is
 * looked at; a handset with no good backup for the rule's days is alerted on by the pass.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { closeDb, type Db } from '@/db/client';
import { exec } from '@/db/sql';
import { updateJob } from '@/db/queries/jobs';
import { listDeliveries } from '@/db/queries/webhooks';
import { testDb } from '@/test/support/db';
import { createBackupJob } from '../backup/jobs';
import { provisionDevice } from '../devices/devices';
import { alertList } from './alerts';
import { evaluateAlerts, noteJobEnds } from './evaluate';
import { setAlertRule } from './rules';
import { addWebhook } from './webhooks';

let dir: string;
let db: Db;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-alert-rules-'));
  db = await testDb(dir);
});
afterAll(async () => {
  if (db) await closeDb(db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function handset(devId: string) {
  return provisionDevice(db, {
    devId,
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  });
}

/** A backup that ended as `status`, looked at as a DM message that ended it would. */
async function backupEnds(device: Awaited<ReturnType<typeof handset>>, status: 'failed' | 'succeeded') {
  const since = Date.now();
  const { job } = await createBackupJob(db, device, { trigger: 'on-demand', actor: 'test' });
  await updateJob(db, job.id, { status, error: status === 'failed' ? 'the handset answered 500' : null });
  await noteJobEnds(db, device.id, since);
  return job;
}

const alertsOf = async (kind: string, devId: string) =>
  (await alertList(db, { status: 'all', limit: 500 })).alerts.filter((a) => a.kind === kind && a.devId === devId);

describe('alert rules', () => {
  it('backups failed N times in a row: one alert per streak, resolved by a good backup', async () => {
    await setAlertRule(db, 'backup-failures', { threshold: 2, enabled: true }, 'test');
    const d = await handset('IMEI:356938035600033');
    await backupEnds(d, 'failed');
    expect(await alertsOf('backup-failures', d.devId)).toEqual([]);
    await backupEnds(d, 'failed');
    await backupEnds(d, 'failed');
    expect(await alertsOf('backup-failures', d.devId)).toEqual([
      expect.objectContaining({ status: 'open', message: expect.stringMatching(/2 backups failed in a row/) }),
    ]);
    await backupEnds(d, 'succeeded');
    expect(await alertsOf('backup-failures', d.devId)).toEqual([
      expect.objectContaining({ status: 'resolved', resolvedBy: 'system' }),
    ]);
    await backupEnds(d, 'failed');
    await backupEnds(d, 'failed');
    const all = await alertsOf('backup-failures', d.devId);
    expect(all.map((a) => a.status).sort()).toEqual(['open', 'resolved']);
  });

  it('a rejected restore raises its alert and its event once', async () => {
    const d = await handset('IMEI:356938035600041');
    const { webhook } = await addWebhook(
      db,
      { url: 'http://127.0.0.1:9/never', events: ['restore.rejected', 'restore.failed'] },
      'test',
    );
    const since = Date.now();
    const { job } = await createBackupJob(db, d, { trigger: 'on-demand', actor: 'test' });
    // A restore's row as the engine leaves it when the user said no (only the kind and status matter here).
    await exec(db, sql`update jobs set kind = 'restore' where id = ${job.id}`);
    await updateJob(db, job.id, { status: 'rejected', error: 'the user rejected the restore' });
    await noteJobEnds(db, d.id, since);
    await noteJobEnds(db, d.id, since);
    await evaluateAlerts(db);
    expect(await alertsOf('restore-failed', d.devId)).toEqual([
      expect.objectContaining({ status: 'open', message: expect.stringMatching(/rejected a restore/) }),
    ]);
    const sent = await listDeliveries(db, webhook.id, 10);
    expect(sent.map((x) => [x.event, JSON.parse(x.body).data.job.id])).toEqual([['restore.rejected', job.id]]);
  });

  it('no good backup for the rule days: raised by the periodic pass, once', async () => {
    await setAlertRule(db, 'no-good-backup', { threshold: 7, enabled: true }, 'test');
    const d = await handset('IMEI:356938035600058');
    await evaluateAlerts(db, Date.now() + 6 * 86_400_000);
    expect(await alertsOf('no-good-backup', d.devId)).toEqual([]);
    await evaluateAlerts(db, Date.now() + 8 * 86_400_000);
    await evaluateAlerts(db, Date.now() + 9 * 86_400_000);
    expect(await alertsOf('no-good-backup', d.devId)).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/never had a good backup/) }),
    ]);
  });
});
