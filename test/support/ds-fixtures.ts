/**
 * DS backups without a DS session: a handset's DS copy written item by item as the server
 * writes it (content in the blob store, a ds_items row), then snapshotted the way a finished
 * session does. Two backups: a slow sync of generated contacts and events, then a two-way sync
 * that changed two contacts' mobile numbers, added one contact and deleted one event.
 */
import type { AppContext } from '@/lib/core/context';
import {
  dsItemsOf,
  getDsAccountByUser,
  insertDsItem,
  updateDsItem,
  deleteDsItems,
  type DsSnapshotRow,
} from '@/db/queries/ds';
import { recordBlob } from '@/db/queries/snapshots';
import { addDsAccount } from '@/lib/ds/accounts';
import { generateContacts, generateEvents } from '@/sim/ds-generate';
import { takeDsSnapshot } from '@/lib/ds/snapshot';
import { summarize } from '@/lib/ds/vobject';
import { deviceKeyOwner } from '@/lib/backup/sealed-store';

async function put(ctx: AppContext, deviceId: string, text: string) {
  const bytes = new TextEncoder().encode(text);
  const { hash } = await ctx.blobs.put(bytes, await deviceKeyOwner(ctx.db, deviceId));
  await recordBlob(ctx.db, hash, bytes.length);
  const s = summarize(text);
  return { hash, size: bytes.length, summary: s.summary, uid: s.uid ?? null };
}

export interface SeededDs {
  accountId: string;
  first: DsSnapshotRow;
  second: DsSnapshotRow;
  changed: string[];
  added: string;
  removedEvent: string;
}

export async function seedDsBackups(
  ctx: AppContext,
  devId: string,
  opts: { user: string; contacts?: number; events?: number; seed?: number },
): Promise<SeededDs> {
  await addDsAccount(ctx.db, { devId, user: opts.user, pass: 'secret-pass' });
  const account = (await getDsAccountByUser(ctx.db, opts.user))!;
  const contacts = generateContacts(opts.seed ?? 5, opts.contacts ?? 12);
  const events = generateEvents(opts.seed ?? 5, opts.events ?? 4);
  for (const [store, list, type] of [
    ['contacts', contacts, 'text/x-vcard'],
    ['calendar', events, 'text/calendar'],
  ] as const) {
    for (const item of list)
      await insertDsItem(ctx.db, {
        accountId: account.id,
        store,
        luid: item.id,
        contentType: type,
        ...(await put(ctx, account.deviceId, item.text)),
      });
  }
  const first = await takeDsSnapshot(ctx, account, {
    syncType: 'slow',
    changes: {
      contacts: { received: contacts.length, added: contacts.length },
      calendar: { received: events.length, added: events.length },
    },
    newBytes: 1000,
    jobId: null,
  });

  // Backups are ordered by time: the second must be later by at least a millisecond.
  await new Promise((r) => setTimeout(r, 5));
  // Two contacts get a new mobile number, one contact is added, one event deleted.
  const rows = await dsItemsOf(ctx.db, account.id, 'contacts');
  const changed: string[] = [];
  for (const [i, row] of [rows[1]!, rows[3]!].entries()) {
    const text = contacts
      .find((c) => c.id === row.luid)!
      .text.replace(/TEL;TYPE=CELL:[^\r\n]+/, `TEL;TYPE=CELL:+4477009${String(99_990 + i)}`);
    await updateDsItem(ctx.db, row.id, await put(ctx, account.deviceId, text));
    changed.push(row.summary);
  }
  const newText =
    'BEGIN:VCARD\r\nVERSION:3.0\r\nN:Hopper;Grace;;;\r\nFN:Grace Hopper\r\nTEL;TYPE=CELL:+447700900777\r\nEMAIL;TYPE=INTERNET:grace@example.net\r\nEND:VCARD\r\n';
  await insertDsItem(ctx.db, {
    accountId: account.id,
    store: 'contacts',
    luid: 'new-1',
    contentType: 'text/x-vcard',
    ...(await put(ctx, account.deviceId, newText)),
  });
  const gone = (await dsItemsOf(ctx.db, account.id, 'calendar'))[0]!;
  await deleteDsItems(ctx.db, [gone.id]);
  const second = await takeDsSnapshot(ctx, account, {
    syncType: 'two-way',
    changes: { contacts: { received: 3, added: 1, replaced: 2 }, calendar: { received: 1, deleted: 1 } },
    newBytes: 500,
    jobId: null,
  });
  return { accountId: account.id, first, second, changed, added: 'Grace Hopper', removedEvent: gone.summary };
}
