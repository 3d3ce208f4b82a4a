/**
 * "Safety backup before updates", a setting of the handset's policy: on (the default) a
 * restore waits for a backup of the handset and can be undone; off, it starts at once, says
 * so in the audit and its live view, and has nothing to undo it with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '@/db/queries/audit';
import { getJob, updateJob } from '@/db/queries/jobs';
import { insertPolicy, setAssignment } from '@/db/queries/policies';
import { ensureModel, setProfile } from '@/db/queries/profiles';
import { provisionDevice } from '@/lib/devices/devices';
import { liveJob } from '@/lib/jobs/live';
import { tempContext } from '@/test/support/as-viewer';
import { AFTER, BEFORE, seedSnapshot } from '@/test/support/fixtures';
import { executePlan, planUndo } from './engine';
import { createPlan } from './plan';

let t: Awaited<ReturnType<typeof tempContext>>;
let deviceId: string;
let older: string;

beforeAll(async () => {
  t = await tempContext('rewind-safety-setting-');
  deviceId = (
    await provisionDevice(t.ctx.db, {
      devId: 'IMEI:356938035643809',
      manufacturer: 'Nimbus',
      model: 'N1',
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: 'u',
      clientPass: 'p',
      serverPass: 's',
    })
  ).id;
  const model = await ensureModel(t.ctx.db, 'Nimbus', 'N1');
  await setProfile(t.ctx.db, model.id, 'settings', ['./Settings', './DevInfo']);
  older = (await seedSnapshot(t.ctx.db, t.ctx.blobs, deviceId, BEFORE)).id;
  await seedSnapshot(t.ctx.db, t.ctx.blobs, deviceId, AFTER, { at: Date.now() + 1000 });
});
afterAll(async () => {
  await t.close();
});

async function restore(actor: string) {
  const { row } = await createPlan(t.ctx, { snapshotId: older, categories: ['settings'] }, actor);
  return executePlan(t.ctx, row.id, actor, 'ticket 1');
}

describe('safety backup before updates', () => {
  it('is taken first under the default policy: the restore waits for it', async () => {
    const { job, backup } = await restore('on@example.com');
    expect(backup).not.toBeNull();
    expect(job.dependsOn).toBe(backup!.id);
    expect((await liveJob(t.ctx.db, job)).dependsOn?.id).toBe(backup!.id);
  });

  it("is not taken when the handset's policy turns it off: the restore starts alone and cannot be undone", async () => {
    const quick = await insertPolicy(t.ctx.db, {
      name: 'No safety',
      categories: '["settings"]',
      intervalMinutes: 60,
      retention: '{}',
      safetyBackupBeforeUpdates: false,
    });
    await setAssignment(t.ctx.db, 'model', 'Nimbus/N1', quick.id);
    const { job, backup } = await restore('off@example.com');
    expect(backup).toBeNull();
    expect(await getJob(t.ctx.db, job.id)).toMatchObject({ dependsOn: null, status: 'queued', wakePending: true });
    expect((await liveJob(t.ctx.db, job)).dependsOn).toBeNull();
    const started = (await listAudit(t.ctx.db)).find(
      (a) => a.actor === 'off@example.com' && a.action === 'restore.started',
    )!;
    expect(JSON.parse(started.details!)).toMatchObject({
      safetyBackup: null,
      noSafetyBackup: 'the policy No safety takes no safety backup before updates',
    });
    await updateJob(t.ctx.db, job.id, { status: 'succeeded' });
    await expect(planUndo(t.ctx, job.id, 'off@example.com')).rejects.toThrow(/no safety backup/);
  });
});
