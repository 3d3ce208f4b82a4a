/** The audit log: filters, keyset pages, the CSV export (quoting, formula cells) and who may take it. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { insertAudit } from '@/db/queries/audit';
import { auditEvents } from '@/db/schema';
import { auditCsv, auditDetailLines, auditFilterProblem, auditPage } from '@/lib/audit/views';
import { csvCell, csvLine } from '@/lib/core/csv';
import { auditPersonalRead, READ_REPEAT_MS } from '@/lib/audit/reads';
import { provisionDevice } from '@/lib/devices/devices';
import type * as Session from '@/lib/server/session';
import { signedIn, staff, subscriberViewer, tempContext, type TempContext } from './support/as-viewer';

vi.mock('@/lib/server/session', async (orig) => ({
  ...(await orig<typeof Session>()),
  getViewer: async () => (await import('./support/as-viewer')).signedIn.viewer,
}));

let t: TempContext;
let dev: string;
const DEV_ID = 'IMEI:356938035643809';

beforeAll(async () => {
  t = await tempContext('rewind-audit-');
  const db = t.ctx.db;
  dev = (
    await provisionDevice(db, {
      devId: DEV_ID,
      manufacturer: 'Nimbus',
      model: 'N1',
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: 'u',
      clientPass: 'p',
      serverPass: 's',
    })
  ).id;
  // 120 events over 60 distinct milliseconds (two per ms), so pages split ties.
  const at0 = Date.UTC(2025, 0, 1);
  const rows = Array.from({ length: 120 }, (_, i) => ({
    at: at0 + Math.floor(i / 2),
    actor: i % 3 === 0 ? 'ada@rewind.test' : `handset:${DEV_ID}`,
    action: i % 4 === 0 ? 'policy.updated' : i % 4 === 1 ? 'consent.accepted' : 'backup.requested',
    deviceId: i % 5 === 0 ? null : dev,
    details: JSON.stringify({ i }),
  }));
  await db.insert(auditEvents).values(rows);
});
afterAll(() => t.close());

const seq = (rows: Array<{ details: string | null }>) => rows.map((r) => (JSON.parse(r.details!) as { i: number }).i);

describe('audit log pages', () => {
  it('walk the whole log newest first, with no event twice or missed across pages', async () => {
    const seen: number[] = [];
    let before: string | undefined;
    for (let n = 0; n < 10; n++) {
      const p = await auditPage(t.ctx.db, before ? { before } : {}, 25);
      seen.push(...seq(p.rows));
      if (!p.next) break;
      before = p.next;
    }
    expect(seen).toHaveLength(120);
    expect(new Set(seen).size).toBe(120);
    // Newest first: the millisecond never goes up.
    const ms = seen.map((i) => Math.floor(i / 2));
    expect(ms).toEqual([...ms].sort((a, b) => b - a));
  });

  it('filter by handset, person and action, exactly or by prefix', async () => {
    const db = t.ctx.db;
    const byDevice = (await auditPage(db, { devId: DEV_ID }, 500)).rows;
    expect(byDevice).toHaveLength(96);
    expect(byDevice.every((r) => r.devId === DEV_ID)).toBe(true);
    expect((await auditPage(db, { devId: 'IMEI:000000000000000' })).rows).toEqual([]);
    const ada = (await auditPage(db, { actor: 'ada@rewind.test' }, 500)).rows;
    expect(ada).toHaveLength(40);
    expect((await auditPage(db, { actor: 'ada@' })).rows).toEqual([]); // exact unless it ends with *
    expect((await auditPage(db, { actor: 'ada@*' }, 500)).rows).toHaveLength(40);
    expect((await auditPage(db, { action: 'consent.*' }, 500)).rows.every((r) => r.action === 'consent.accepted')).toBe(
      true,
    );
    const both = (await auditPage(db, { actor: 'handset:*', action: 'policy.updated', devId: DEV_ID }, 500)).rows;
    expect(seq(both).every((i) => i % 3 !== 0 && i % 4 === 0 && i % 5 !== 0)).toBe(true);
    expect(both).toHaveLength(120 / 4 - 10 - 6 + 2);
  });
});

describe('audit log filters, pages back and details', () => {
  it('walk back to newer pages with the same events the older pages showed', async () => {
    const db = t.ctx.db;
    const first = await auditPage(db, { action: 'backup.*' }, 25);
    expect(first.prev).toBeUndefined();
    const second = await auditPage(db, { action: 'backup.*', before: first.next }, 25);
    expect(second.prev).toBeDefined();
    const back = await auditPage(db, { action: 'backup.*', after: second.prev }, 25);
    expect(seq(back.rows)).toEqual(seq(first.rows));
    expect(back.prev).toBeUndefined(); // nothing newer than the newest page
    const third = await auditPage(db, { action: 'backup.*', before: second.next }, 25);
    expect(seq((await auditPage(db, { action: 'backup.*', after: third.prev }, 25)).rows)).toEqual(seq(second.rows));
  });

  it('take a range of whole UTC days, and say when a date cannot be used', async () => {
    const db = t.ctx.db;
    expect((await auditPage(db, { from: '2025-01-01', to: '2025-01-01' }, 500)).rows).toHaveLength(120);
    expect((await auditPage(db, { to: '2024-12-31' }, 500)).rows).toEqual([]);
    expect((await auditPage(db, { from: '2025-01-02', action: 'backup.*' }, 500)).rows).toEqual([]);
    expect(auditFilterProblem({ from: '2025-02-30' })).toMatch(/not a date/);
    expect(auditFilterProblem({ from: '2025-02-02', to: '2025-02-01' })).toMatch(/after the last day/);
    expect(auditFilterProblem({ from: '2025-02-01', to: '2025-02-01' })).toBeUndefined();
  });

  it('match a person or action that holds the text, in any case, with * at its start', async () => {
    const db = t.ctx.db;
    expect((await auditPage(db, { actor: '*REWIND' }, 500)).rows).toHaveLength(40);
    expect((await auditPage(db, { actor: '*imei:3569' }, 500)).rows).toHaveLength(80);
    expect((await auditPage(db, { actor: '*ada@*' }, 500)).rows).toHaveLength(40);
    expect((await auditPage(db, { action: '*accepted' }, 500)).rows.every((r) => r.action === 'consent.accepted')).toBe(
      true,
    );
    expect((await auditPage(db, { actor: '*%' }, 500)).rows).toEqual([]); // % is itself, not a wildcard
  });

  it('read details as labelled lines, nested ones flattened', () => {
    expect(
      auditDetailLines(
        JSON.stringify({
          name: 'Trial',
          intervalMinutes: 2880,
          wifiOnly: true,
          categories: ['settings', 'apps'],
          before: { name: 'Old' },
        }),
      ),
    ).toEqual([
      { label: 'Name', value: 'Trial' },
      { label: 'Interval minutes', value: '2880' },
      { label: 'Wifi only', value: 'yes' },
      { label: 'Categories', value: 'settings, apps' },
      { label: 'Before, name', value: 'Old' },
    ]);
    expect(auditDetailLines('not json')).toEqual([{ label: 'Details', value: 'not json' }]);
    expect(auditDetailLines(null)).toEqual([]);
  });
});

describe('reading personal data', () => {
  it('is recorded once per person and thing within a few minutes, and not for the subscriber themselves', async () => {
    const db = t.ctx.db;
    const agent = { role: 'agent', email: 'reader@rewind.test' };
    const e = {
      action: 'snapshot.media-read',
      deviceId: dev,
      details: { snapshotId: 's1', path: './AppData/Ringtones/A' },
    };
    const now = Date.now();
    expect(await auditPersonalRead(db, agent, e, now)).toBe(true);
    expect(await auditPersonalRead(db, agent, e, now + 1000)).toBe(false);
    expect(
      await auditPersonalRead(db, agent, { ...e, details: { ...e.details, path: './AppData/Ringtones/B' } }, now),
    ).toBe(true);
    expect(await auditPersonalRead(db, { role: 'subscriber', email: 'me@example.org' }, e, now)).toBe(false);
    const rows = (await auditPage(db, { actor: 'reader@rewind.test' }, 50)).rows;
    expect(rows.map((r) => r.action)).toEqual(['snapshot.media-read', 'snapshot.media-read']);
    expect(rows.every((r) => r.devId === DEV_ID)).toBe(true);
    expect(await auditPersonalRead(db, agent, e, Date.now() + READ_REPEAT_MS + 1000)).toBe(true);
  });
});

describe('CSV', () => {
  it('quotes commas, quotes and line breaks, and defuses formula cells', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    for (const c of ['+1', '-1+2', '@SUM(A1)', '\t=1', '\r=1'])
      expect(csvCell(c).replace(/^"/, '').startsWith("'")).toBe(true);
    expect(csvCell(null)).toBe('');
    expect(csvLine(['a', 1, null])).toBe('a,1,\r\n');
  });

  it('exports every filtered event, newest first, beyond one batch', async () => {
    const lines: string[] = [];
    for await (const line of auditCsv(t.ctx.db, { action: 'backup.*' })) lines.push(line);
    expect(lines[0]).toBe('at,actor,action,device,details\r\n');
    expect(lines).toHaveLength(1 + 60);
    expect(lines[1]).toMatch(/^2025-01-01T00:00:00\.05\dZ,/);
  });

  it('is for staff only, and records who exported what', async () => {
    const { GET } = await import('@/app/(console)/audit/export/route');
    await insertAudit(t.ctx.db, { actor: '=cmd|evil', action: 'sign-in.failed', details: { email: '=cmd|evil' } });
    const url = 'http://localhost/audit/export?action=sign-in.failed';
    signedIn.viewer = null;
    expect((await GET(new Request(url))).status).toBe(401);
    signedIn.viewer = subscriberViewer('someone');
    expect((await GET(new Request(url))).status).toBe(403);
    signedIn.viewer = staff('agent', 'agent-9@rewind.test');
    const res = await GET(new Request(url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await res.text();
    expect(text.split('\r\n')[1]).toMatch(/^[^,]+,'=cmd\|evil,sign-in\.failed,,"\{""email"":""'?=cmd\|evil""\}"$/);
    expect((await auditPage(t.ctx.db, { action: 'audit.exported' })).rows[0]).toMatchObject({
      actor: 'agent-9@rewind.test',
    });
  });
});
