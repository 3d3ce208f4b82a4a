/**
 * `GET /api/v1/devices`: the console's device list over the API, with its filters, sort and
 * cursor pages, every answer checked against the OpenAPI document; a bad parameter is a 400
 * naming it; the CSV of every matching device, audited under the token.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb } from '@/db/client';
import { listAudit } from '@/db/queries/audit';
import { getDeviceByDevId, updateDevice } from '@/db/queries/devices';
import { insertAlert } from '@/db/queries/alerts';
import { createPush, setContext, type AppContext } from '@/lib/core/context';
import { FileBlobStore } from '@/lib/backup/blob-store';
import { env } from '@/lib/core/env';
import { createApiToken } from '@/lib/auth/tokens';
import { provisionDevice } from '@/lib/devices/devices';
import { testDb } from './support/db';
import { documentChecker } from './support/api-contract';
import * as devicesRoute from '@/app/api/v1/devices/route';

type Handler = (req: Request, route: { params: Promise<never> }) => Promise<Response>;

interface Device {
  id: string;
  devId: string;
  model: string;
  serverId: string;
  subscriber: { id: string; name: string } | null;
  lastGoodBackupAt: number | null;
  coverage: string;
  openAlerts: number;
}
interface Body {
  devices: Device[];
  nextCursor: string | null;
  limit: number;
  error: { code: string; fieldErrors: Record<string, string[]> };
}

const conformsToDocument = documentChecker([[devicesRoute.GET, 'GET /devices']]);

const DAY = 86_400_000;
const NOW = Date.now();
let dir: string;
let ctx: AppContext;
let agent: string;
let agentTokenId: string;

async function call(query: Record<string, string>, headers: Record<string, string> = {}) {
  const url = new URL('http://localhost/api/v1/devices');
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const res = await (devicesRoute.GET as unknown as Handler)(
    new Request(url, { headers: { authorization: `Bearer ${agent}`, ...headers } }),
    { params: Promise.resolve({}) as Promise<never> },
  );
  const json = (res.headers.get('content-type') ?? '').includes('application/json');
  const body = json ? ((await res.json()) as Body) : await res.text();
  conformsToDocument(devicesRoute.GET, res.status, body, json, undefined);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body };
}
const page = async (q: Record<string, string>) => {
  const r = await call(q);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as Body;
};
const nums = (b: Body) => b.devices.map((d) => Number(d.devId.slice(-2)));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-devices-api-'));
  const e = { ...env(), DATA_DIR: dir, dataDir: dir };
  ctx = { db: await testDb(dir), env: e, push: createPush(e), blobs: new FileBlobStore(path.join(dir, 'blobs')) };
  setContext(ctx);
  const t = await createApiToken(ctx.db, 'agent', 'agent');
  agent = t.token;
  agentTokenId = t.id;
  // Eight handsets: N1 and X2, backed up n days ago (none for 7 and 8), seen an hour after that.
  for (let n = 1; n <= 8; n++) {
    const devId = `IMEI:3569380356438${String(n).padStart(2, '0')}`;
    await provisionDevice(ctx.db, {
      devId,
      manufacturer: 'Nimbus',
      model: n % 2 ? 'N1' : 'X2',
      firmware: `1.${n + 5}.0`,
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: `u${n}`,
      clientPass: 'client-secret',
      serverPass: 'server-secret',
      msisdn: `4477009000${String(n).padStart(2, '0')}`,
      subscriber: `Subscriber, ${n}`,
    });
    const d = (await getDeviceByDevId(ctx.db, devId))!;
    await updateDevice(ctx.db, d.id, {
      lastGoodBackupAt: n <= 6 ? NOW - n * DAY : null,
      lastSeenAt: NOW - n * DAY + 3600_000,
    });
    if (n === 3)
      await insertAlert(ctx.db, {
        kind: 'not-seen',
        conditionKey: `not-seen:${d.id}`,
        deviceId: d.id,
        message: 'not seen',
        details: '{}',
        raisedAt: NOW,
      });
  }
});

afterAll(async () => {
  setContext(undefined);
  if (ctx) await closeDb(ctx.db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('GET /devices', () => {
  it('keeps its answer: every device in id order without filters, with what the list adds', async () => {
    const all = await page({});
    expect(all.devices).toHaveLength(8);
    expect(all.nextCursor).toBeNull();
    const d3 = all.devices.find((d) => d.devId.endsWith('03'))!;
    expect(d3).toMatchObject({ model: 'N1', serverId: 'rewind', coverage: 'week', openAlerts: 1 });
    expect(d3.subscriber?.name).toBe('Subscriber, 3');
  });

  it('filters by model and backup age, sorted by last good backup, a cursor page at a time', async () => {
    const lastBackupBefore = new Date(NOW - 2 * DAY - 60_000).toISOString();
    const q = { model: 'N1', lastBackupBefore, sort: 'lastBackup', dir: 'desc', limit: '1' };
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const b: Body = await page(cursor ? { ...q, cursor } : q);
      seen.push(...nums(b));
      cursor = b.nextCursor;
    } while (cursor);
    // N1 is 1, 3, 5, 7; backed up before two days ago: 3, 5, and 7 (never), newest first, never last.
    expect(seen).toEqual([3, 5, 7]);
    expect(nums(await page({ coverage: 'never' }))).toEqual([7, 8]);
    expect(nums(await page({ firmwareFrom: '1.10', firmwareTo: '1.12.0', sort: 'firmware' }))).toEqual([5, 6, 7]);
    expect(nums(await page({ msisdnPrefix: '44770090000', alert: 'any' }))).toEqual([3]);
    expect(nums(await page({ noBackupForDays: '5', sort: 'lastSeen' }))).toEqual([8, 7, 6, 5]);
  });

  it('answers 400 naming a bad parameter, an unknown one, or a cursor of another sort', async () => {
    const bad = await call({ coverage: 'sometimes' });
    expect(bad.status).toBe(400);
    expect(Object.keys((bad.body as Body).error.fieldErrors)).toContain('coverage');
    expect((await call({ lastBackupBefore: 'last tuesday' })).status).toBe(400);
    expect((await call({ limit: '0' })).status).toBe(400);
    expect((await call({ colour: 'red' })).status).toBe(400);
    const byTime = await page({ sort: 'lastBackup', dir: 'desc', limit: '2' });
    const wrong = await call({ sort: 'model', cursor: byTime.nextCursor! });
    expect(wrong.status).toBe(400);
    expect(Object.keys((wrong.body as Body).error.fieldErrors)).toEqual(['cursor']);
  });

  it('answers every matching device as CSV, not a page, and audits the export', async () => {
    const ways: Array<{ q: Record<string, string>; h: Record<string, string> }> = [
      { q: { format: 'csv' }, h: {} },
      { q: {}, h: { accept: 'text/csv' } },
    ];
    for (const how of ways) {
      const r = await call({ model: 'X2', sort: 'devId', limit: '1', ...how.q }, how.h);
      expect(r.status).toBe(200);
      expect(r.type).toContain('text/csv');
      const lines = (r.body as string).trim().split('\r\n');
      expect(lines[0]).toBe(
        'devId,manufacturer,model,firmware,subscriberId,subscriber,policyId,lastGoodBackup,coverage,lastSeen,openAlerts',
      );
      expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(
        [2, 4, 6, 8].map((n) => `IMEI:3569380356438${`0${n}`}`),
      );
      // A subscriber's name with a comma stays one cell.
      expect(lines[1]).toContain('"Subscriber, 2"');
    }
    const audit = await listAudit(ctx.db, { action: 'devices.exported' });
    expect(audit).toHaveLength(2);
    expect(audit[0]!.actor).toBe(`token:${agentTokenId}`);
    expect((await call({ format: 'xml' })).status).toBe(400);
  });
});
