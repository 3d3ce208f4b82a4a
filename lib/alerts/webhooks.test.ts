/**
 * Alerts and webhooks end to end: a real backup fails in a real DM session over /dm (its
 * data key does not open), and a real receiver on 127.0.0.1 gets the signed `backup.failed`
 * event and the alert it raised; it answers 500 the first time, and the retry after the
 * backoff is delivered. Signatures are checked here with node:crypto, not with our own helper.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDeviceByDevId, updateDevice } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { listAudit } from '@/db/queries/audit';
import { listDeliveries } from '@/db/queries/webhooks';
import { startTestFleet, type TestFleet } from '@/test/support/test-fleet';
import { keyOwner } from '../backup/blob-store';
import { createBackupJob } from '../backup/jobs';
import { Keyring, newKey } from '../backup/keyring';
import { acknowledgeAlert, alertList, resolveAlert } from './alerts';
import { evaluateAlerts } from './evaluate';
import { setAlertRule } from './rules';
import { addWebhook, deliverDue, removeWebhook, retryDelayMs, testWebhook, webhookList } from './webhooks';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  status: number;
}

let fleet: TestFleet;
let receiver: http.Server;
let url: string;
const received: Received[] = [];
const seen = new Set<string>();

beforeAll(async () => {
  fleet = await startTestFleet({ devices: 2, seed: 7301, encoding: 'xml', mediaScale: 0.02 });
  // Answers 500 the first time it sees a delivery, 200 after: a receiver that was briefly down.
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(req.headers['x-rewind-delivery']);
      const status = seen.has(id) ? 200 : 500;
      seen.add(id);
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/rewind`;
}, 120_000);

afterAll(async () => {
  await fleet?.close();
  await new Promise((r) => receiver?.close(r));
});

const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('a failing backup reaches a webhook', () => {
  it('sends a signed backup.failed and the alert it raised, and retries after a 500', async () => {
    const { db } = fleet.ctx;
    const { secret, webhook } = await addWebhook(db, { url, events: 'backup.failed,alert.raised' }, 'test');
    await setAlertRule(db, 'backup-failures', { threshold: 1, enabled: true }, 'admin@rewind.test');

    // The handset's data key wrapped under another master key: the backup fails in the session.
    const h = fleet.handsets[0]!;
    const device = (await getDeviceByDevId(db, h.devId))!;
    await new Keyring(db, newKey()).dataKey(keyOwner(device));
    const { job } = await createBackupJob(db, device, { trigger: 'on-demand', actor: 'test' });
    const session = await h.connect({ initiator: 'client' });
    expect(session.ok, JSON.stringify(session)).toBe(true);
    const failed = (await getJob(db, job.id))!;
    expect(failed.status).toBe('failed');

    // Queued durably when the session ended the job; sent by the next pass.
    const queued = await listDeliveries(db, webhook.id, 10);
    expect(queued.map((d) => d.event).sort()).toEqual(['alert.raised', 'backup.failed']);
    const t0 = Date.now();
    expect(await deliverDue(db, t0)).toBe(2);
    expect(received.map((r) => r.status)).toEqual([500, 500]);
    const afterFirst = await listDeliveries(db, webhook.id, 10);
    for (const d of afterFirst) {
      expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 500 });
      expect(d.nextAttemptAt).toBe(t0 + retryDelayMs(1));
    }
    // Nothing is due before the backoff has passed.
    expect(await deliverDue(db, t0 + retryDelayMs(1) - 1)).toBe(0);
    expect(await deliverDue(db, t0 + retryDelayMs(1))).toBe(2);
    expect(received.map((r) => r.status)).toEqual([500, 500, 200, 200]);
    expect((await listDeliveries(db, webhook.id, 10)).every((d) => d.status === 'delivered' && d.attempts === 2)).toBe(
      true,
    );

    for (const r of received) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-rewind-signature']).toBe(sign(secret, r.body));
      expect(r.headers['x-rewind-signature']).not.toBe(sign('another secret', r.body));
    }
    // A retry sends the same bytes.
    const bodies = received.map((r) => r.body);
    expect(new Set(bodies).size).toBe(2);
    const event = received.map((r) => JSON.parse(r.body) as { event: string; data: Record<string, unknown> });
    const bf = event.find((e) => e.event === 'backup.failed')!;
    expect(bf.data.device).toEqual({ id: device.id, devId: h.devId });
    expect(bf.data.job).toMatchObject({ id: job.id, kind: 'backup', status: 'failed', error: failed.error });
    const raised = event.find((e) => e.event === 'alert.raised')!;
    expect(raised.data.alert).toMatchObject({ kind: 'backup-failures', devId: h.devId, status: 'open' });

    // Looking at the same job end again (the periodic pass) raises and sends nothing new.
    await evaluateAlerts(db);
    expect(await listDeliveries(db, webhook.id, 10)).toHaveLength(2);
    const list = await alertList(db, { status: 'unresolved', limit: 100 });
    expect(list.alerts.filter((a) => a.kind === 'backup-failures')).toHaveLength(1);

    // Acknowledged, then resolved by a person, each audited; a second resolve is a conflict.
    const alertId = list.alerts.find((a) => a.kind === 'backup-failures')!.id;
    expect((await acknowledgeAlert(db, alertId, 'agent@rewind.test')).status).toBe('acknowledged');
    expect((await resolveAlert(db, alertId, 'admin@rewind.test')).resolvedBy).toBe('admin@rewind.test');
    await expect(resolveAlert(db, alertId, 'admin@rewind.test')).rejects.toMatchObject({ status: 409 });
    const audit = (await listAudit(db, { deviceId: device.id })).map((a) => [a.action, a.actor]);
    expect(audit).toEqual(
      expect.arrayContaining([
        ['alert.acknowledged', 'agent@rewind.test'],
        ['alert.resolved', 'admin@rewind.test'],
      ]),
    );
    // The condition still holds but its alert was dealt with: it is not raised again.
    await evaluateAlerts(db);
    expect(
      (await alertList(db, { status: 'all', limit: 100 })).alerts.filter((a) => a.kind === 'backup-failures'),
    ).toHaveLength(1);
    await removeWebhook(db, webhook.id, 'test');
  }, 120_000);

  it('the test button sends a signed webhook.test at once', async () => {
    const { db } = fleet.ctx;
    const { secret, webhook } = await addWebhook(db, { url, events: ['webhook.test'] }, 'admin@rewind.test');
    const first = await testWebhook(db, webhook.id, 'admin@rewind.test');
    // This receiver refuses a delivery it has not seen: the first test is a 500, retried later.
    expect(first).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 500 });
    const last = received[received.length - 1]!;
    expect(JSON.parse(last.body)).toMatchObject({ event: 'webhook.test', data: { webhookId: webhook.id } });
    expect(last.headers['x-rewind-signature']).toBe(sign(secret, last.body));
    expect(await deliverDue(db, Date.now() + retryDelayMs(1))).toBe(1);
    expect((await listDeliveries(db, webhook.id, 10))[0]).toMatchObject({ status: 'delivered', lastStatus: 200 });
    expect((await webhookList(db)).map((w) => w.url)).toContain(url);
    await removeWebhook(db, webhook.id, 'admin@rewind.test');
    expect(await webhookList(db)).toHaveLength(0);
  });

  it('a handset not seen for the rule days raises one alert, resolved by the system when it is back', async () => {
    const { db } = fleet.ctx;
    await setAlertRule(db, 'not-seen', { threshold: 3, enabled: true }, 'admin@rewind.test');
    const device = (await getDeviceByDevId(db, fleet.handsets[1]!.devId))!;
    const now = Date.now();
    await updateDevice(db, device.id, { lastSeenAt: now - 4 * 86_400_000 });
    await evaluateAlerts(db, now);
    await evaluateAlerts(db, now + 60_000);
    const notSeen = async () =>
      (await alertList(db, { status: 'all', limit: 100 })).alerts.filter(
        (a) => a.kind === 'not-seen' && a.devId === device.devId,
      );
    expect(await notSeen()).toEqual([
      expect.objectContaining({ status: 'open', message: expect.stringMatching(/4 days/) }),
    ]);
    await updateDevice(db, device.id, { lastSeenAt: now });
    await evaluateAlerts(db, now + 120_000);
    expect(await notSeen()).toEqual([expect.objectContaining({ status: 'resolved', resolvedBy: 'system' })]);
  });
});
