/** `rewind subscriber erase`: the console's "Erase subscriber", for scripts and data-protection requests. */
import { getContext } from '../lib/core/context';
import { getSubscriber } from '../db/queries/subscribers';
import { eraseSubscriberAs } from '../lib/subscribers/erasure';
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
    if (v.yes !== true)
      throw new UsageError(`this erases ${sub.name} and all their backups for good: add --yes to confirm`);
    const r = await eraseSubscriberAs(ctx, sub.id, 'cli');
    console.log(
      `erased subscriber ${sub.id}: ${r.devices} handset(s), ${r.snapshots} backup(s), ${r.keys} key(s) destroyed, ${r.gc?.removed ?? 0} blob(s) swept (the rest, unreadable already, at the next collection)`,
    );
  },
};
