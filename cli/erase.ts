/** `rewind subscriber erase`: the console's "Erase subscriber", for scripts and data-protection requests. */
import { getContext } from '../lib/core/context';
import { insertAudit } from '../db/queries/audit';
import { getSubscriber } from '../db/queries/subscribers';
import { eraseSubscriber } from '../lib/subscribers/erasure';
import { positionals } from './args';
import { UsageError, type Command } from './usage';

export const subscriberErase: Command = {
  summary: "erase a subscriber: their handsets' records and every backup, and their encryption keys (--yes to confirm)",
  usage: 'SUBSCRIBER_ID --yes',
  options: { yes: { type: 'boolean' } },
  async run(v, pos) {
    const [id] = positionals(pos, ['SUBSCRIBER_ID']);
    const ctx = getContext();
    const sub = await getSubscriber(ctx.db, id!);
    if (!sub) throw new Error(`no subscriber ${id}`);
    if (v.yes !== true) throw new UsageError(`this erases ${sub.name} and all their backups for good: add --yes to confirm`);
    const r = await eraseSubscriber(ctx, sub.id);
    await insertAudit(ctx.db, { actor: 'cli', action: 'subscriber.erased', details: { subscriberId: sub.id, devices: r.devices, snapshots: r.snapshots, keys: r.keys, blobs: r.gc?.removed ?? 0 } });
    console.log(`erased subscriber ${sub.id}: ${r.devices} handset(s), ${r.snapshots} backup(s), ${r.keys} key(s) destroyed, ${r.gc?.removed ?? 0} blob(s) swept (the rest, unreadable already, at the next collection)`);
  },
};
