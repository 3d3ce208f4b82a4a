/** What the console shows of Data Sync: fields in words, a backup page by page, a diff side by side, and the handset check. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionDevice } from '@/lib/devices/devices';
import { formatTime } from '@/lib/core/format';
import { listAudit } from '@/db/queries/audit';
import { tempContext, type TempContext } from '@/test/support/as-viewer';
import { seedDsBackups, type SeededDs } from '@/test/support/ds-fixtures';
import {
  DS_PAGE_SIZE,
  DsNotFound,
  diffSummary,
  dsDiffPageData,
  dsSectionData,
  dsSnapshotPageData,
  fieldRows,
  readableDate,
  readableFields,
  storeChangeText,
} from './views';

describe('readableFields', () => {
  it('reads a vCard 2.1 with quoted-printable, folded lines and bare types', () => {
    const text =
      'BEGIN:VCARD\r\nVERSION:2.1\r\nN:Lovelace;Ada;;;\r\nFN;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Ada Lovel=\r\nace\r\nTEL;CELL:+447700900123\r\nTEL;WORK;VOICE:+442079460000\r\nEMAIL;INTERNET:ada@example.net\r\nORG:Analytical;Engines\r\nNOTE:First line\\nsecond\r\nREV:20250101T000000Z\r\nEND:VCARD\r\n';
    expect(readableFields(text)).toEqual([
      { label: 'Name', value: 'Ada Lovelace' },
      { label: 'Mobile', value: '+447700900123' },
      { label: 'Work phone', value: '+442079460000' },
      { label: 'Email', value: 'ada@example.net' },
      { label: 'Organisation', value: 'Analytical, Engines' },
      { label: 'Note', value: 'First line\nsecond' },
    ]);
  });

  it('keeps N when it says more than FN, and shows a photo by size, not as base64', () => {
    const f = readableFields(
      `BEGIN:VCARD\r\nVERSION:3.0\r\nN:Hopper;Grace;Brewster;Rear Admiral;\r\nFN:Grace Hopper\r\nPHOTO;ENCODING=b;TYPE=JPEG:${'A'.repeat(4096)}\r\nEND:VCARD\r\n`,
    );
    expect(f).toEqual([
      { label: 'Full name', value: 'Rear Admiral Grace Brewster Hopper' },
      { label: 'Name', value: 'Grace Hopper' },
      { label: 'Photo', value: '3 KB attached' },
    ]);
  });

  it('reads an event: dates in words, an alarm as a reminder, bookkeeping left out', () => {
    const text =
      'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:e1@example.net\r\nDTSTAMP:20250101T000000Z\r\nDTSTART;TZID=Europe/London:20260105T083000\r\nDTEND:20260105T093000Z\r\nSUMMARY:Dentist\r\nLOCATION:Harley St\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
    expect(readableFields(text)).toEqual([
      { label: 'Starts', value: '2026-01-05 08:30 (Europe/London)' },
      { label: 'Ends', value: '2026-01-05 09:30Z' },
      { label: 'Title', value: 'Dentist' },
      { label: 'Location', value: 'Harley St' },
      { label: 'Reminder', value: '-PT15M' },
    ]);
    expect(readableDate('20260105')).toBe('2026-01-05');
    expect(readableDate('soon')).toBe('soon');
  });

  it('says an oversized item is unreadable instead of failing the page', () => {
    expect(readableFields(`BEGIN:VCARD\r\n${'x'.repeat(1024 * 1024 + 1)}`)[0]!.label).toBe('Unreadable');
  });
});

describe('fieldRows and summaries', () => {
  it('lines two versions up by label and marks only what changed', () => {
    const rows = fieldRows(
      [
        { label: 'Name', value: 'Ada' },
        { label: 'Mobile', value: '+1' },
        { label: 'Note', value: 'old' },
      ],
      [
        { label: 'Name', value: 'Ada' },
        { label: 'Mobile', value: '+2' },
        { label: 'Email', value: 'a@x' },
      ],
    );
    expect(rows).toEqual([
      { label: 'Name', before: ['Ada'], after: ['Ada'], changed: false },
      { label: 'Mobile', before: ['+1'], after: ['+2'], changed: true },
      { label: 'Email', before: [], after: ['a@x'], changed: true },
      { label: 'Note', before: ['old'], after: [], changed: true },
    ]);
    // Two numbers in another order are not a change.
    expect(
      fieldRows(
        [
          { label: 'Phone', value: '1' },
          { label: 'Phone', value: '2' },
        ],
        [
          { label: 'Phone', value: '2' },
          { label: 'Phone', value: '1' },
        ],
      )[0]!.changed,
    ).toBe(false);
  });

  it('says what a session and a diff did in words', () => {
    expect(storeChangeText({ received: 3, added: 1, replaced: 2, deleted: 0, failed: 0, sent: 0 })).toBe(
      '1 added, 2 changed',
    );
    expect(storeChangeText(undefined)).toBe('');
    expect(
      diffSummary({ contacts: { added: 1, removed: 0, changed: 2 }, calendar: { added: 0, removed: 1, changed: 0 } }),
    ).toBe('1 contact added, 2 contacts changed, 1 event removed');
    expect(
      diffSummary({ contacts: { added: 0, removed: 0, changed: 0 }, calendar: { added: 0, removed: 0, changed: 0 } }),
    ).toBe('No contact or event changed.');
  });
});

describe('pages over seeded DS backups', () => {
  let t: TempContext;
  let ada: { id: string };
  let bob: { id: string };
  let seeded: SeededDs;
  let bobs: SeededDs;

  beforeAll(async () => {
    t = await tempContext('rewind-ds-views-');
    const base = {
      manufacturer: 'Nimbus',
      model: 'N1',
      serverId: 'rewind',
      clientAuth: 'md5' as const,
      clientUser: 'u',
      clientPass: 'p',
      serverPass: 's',
    };
    ada = await provisionDevice(t.ctx.db, { ...base, devId: 'IMEI:356938035643809' });
    bob = await provisionDevice(t.ctx.db, { ...base, devId: 'IMEI:490154203237518' });
    seeded = await seedDsBackups(t.ctx, 'IMEI:356938035643809', { user: 'ada-phone', contacts: 250, events: 5 });
    bobs = await seedDsBackups(t.ctx, 'IMEI:490154203237518', { user: 'bob-phone', contacts: 4, events: 1, seed: 9 });
  });
  afterAll(async () => {
    await t.close();
  });

  it('the device section lists accounts and backups, each with the one before it', async () => {
    const d = await dsSectionData(t.ctx.db, ada);
    expect(d.accounts.map((a) => [a.username, a.auth])).toEqual([['ada-phone', 'basic']]);
    expect(d.snapshots.map((s) => [s.id, s.previousId])).toEqual([
      [seeded.second.id, seeded.first.id],
      [seeded.first.id, null],
    ]);
    expect(await dsSectionData(t.ctx.db, { id: 'nobody' }, 50, 7)).toEqual({
      accounts: [],
      snapshots: [],
      more: false,
      now: 7,
    });
  });

  it('a backup page holds a hundred contacts by name with their fields, and pages on', async () => {
    const p1 = await dsSnapshotPageData(t.ctx.db, t.ctx.blobs, ada, seeded.second.id);
    expect(p1).toMatchObject({ store: 'contacts', page: 1, pages: 3, total: 251 });
    expect(p1.items).toHaveLength(DS_PAGE_SIZE);
    const names = p1.items.map((i) => i.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    expect(p1.items[0]!.fields.find((f) => f.label === 'Mobile')?.value).toMatch(/^\+4477/);
    const p3 = await dsSnapshotPageData(t.ctx.db, t.ctx.blobs, ada, seeded.second.id, { page: 99 });
    expect(p3.page).toBe(3);
    expect(p3.items).toHaveLength(51);
    const grace = await dsSnapshotPageData(t.ctx.db, t.ctx.blobs, ada, seeded.second.id, { q: 'hopper' });
    expect(grace.items.map((i) => [i.name, i.fields.map((f) => f.value)])).toEqual([
      ['Grace Hopper', ['Grace Hopper', '+447700900777', 'grace@example.net']],
    ]);
    const events = await dsSnapshotPageData(t.ctx.db, t.ctx.blobs, ada, seeded.second.id, { store: 'calendar' });
    expect(events.total).toBe(4);
    expect(events.items[0]!.fields.map((f) => f.label)).toContain('Starts');
  });

  it("refuses another handset's backup and an unknown id", async () => {
    await expect(dsSnapshotPageData(t.ctx.db, t.ctx.blobs, ada, bobs.second.id)).rejects.toBeInstanceOf(DsNotFound);
    await expect(dsSnapshotPageData(t.ctx.db, t.ctx.blobs, bob, 'nope')).rejects.toBeInstanceOf(DsNotFound);
    const d = await dsDiffPageData(
      t.ctx.db,
      t.ctx.blobs,
      ada,
      { from: seeded.first.id, to: bobs.second.id },
      formatTime,
    );
    expect(d).toMatchObject({ ok: false, error: 'One of these DS backups is not a backup of this handset.' });
  });

  it("the diff defaults to the newest two and shows the changed contacts' numbers old and new", async () => {
    const d = await dsDiffPageData(t.ctx.db, t.ctx.blobs, ada, {}, formatTime);
    if (!d.ok) throw new Error(d.error);
    expect([d.from.id, d.to.id]).toEqual([seeded.first.id, seeded.second.id]);
    expect(d.totals).toEqual({ added: 1, removed: 1, changed: 2 });
    expect(d.changed.map((c) => c.name).sort()).toEqual([...seeded.changed].sort());
    for (const c of d.changed) {
      const mobile = c.rows.find((r) => r.label === 'Mobile')!;
      expect(mobile.changed).toBe(true);
      expect(mobile.after[0]).toMatch(/^\+447700999/);
      expect(mobile.before[0]).not.toBe(mobile.after[0]);
      expect(c.rows.filter((r) => r.changed)).toHaveLength(1);
    }
    expect(d.added.map((i) => i.name)).toEqual(['Grace Hopper']);
    expect(d.removed.map((i) => [i.store, i.name])).toEqual([['calendar', seeded.removedEvent]]);
    // Given newest first, it still compares older → newer; the same backup twice is refused.
    const swapped = await dsDiffPageData(
      t.ctx.db,
      t.ctx.blobs,
      ada,
      { from: seeded.second.id, to: seeded.first.id },
      formatTime,
    );
    expect(swapped.ok && [swapped.from.id, swapped.to.id]).toEqual([seeded.first.id, seeded.second.id]);
    expect(
      await dsDiffPageData(t.ctx.db, t.ctx.blobs, ada, { from: seeded.first.id, to: seeded.first.id }, formatTime),
    ).toMatchObject({ ok: false });
    expect(await dsDiffPageData(t.ctx.db, t.ctx.blobs, { id: 'nobody' }, {}, formatTime)).toMatchObject({
      ok: false,
      error: 'This handset has no DS backups yet.',
    });
  });

  it("records an agent reading a diff of two backups as a personal-data read, once within a few minutes; never the subscriber's", async () => {
    const agent = { role: 'agent', email: 'diff-reader@example.org' };
    const mine = async () => (await listAudit(t.ctx.db, { deviceId: ada.id })).filter((a) => a.actor === agent.email);
    expect(await mine()).toEqual([]);
    const q = { from: seeded.first.id, to: seeded.second.id, reader: agent };
    expect((await dsDiffPageData(t.ctx.db, t.ctx.blobs, ada, q, formatTime)).ok).toBe(true);
    expect((await dsDiffPageData(t.ctx.db, t.ctx.blobs, ada, q, formatTime)).ok).toBe(true); // a reload
    const subscriber = { role: 'subscriber', email: 'ada-diff@example.org' };
    await dsDiffPageData(t.ctx.db, t.ctx.blobs, ada, { ...q, reader: subscriber }, formatTime);
    const entries = await mine();
    expect(entries.map((a) => a.action)).toEqual(['ds.diff-viewed']);
    expect(JSON.parse(entries[0]!.details!)).toEqual({ from: seeded.first.id, to: seeded.second.id });
    expect((await listAudit(t.ctx.db, { deviceId: ada.id })).some((a) => a.actor === subscriber.email)).toBe(false);
  });
});
