/** `rewind ds-account add`: the DS credentials a handset's contacts and calendar sync with. */
import { getContext } from '../lib/app-context';
import { addDsAccount } from '../lib/ds/accounts';
import { ValidationError } from '../lib/devices';
import { insertAudit } from '../db/queries/audit';
import { required, UsageError, type Command } from './usage';

export const dsAccountAdd: Command = {
  summary: 'create a handset\'s DS account for /ds (or set its password)',
  usage: '--dev-id ID --user U --pass P [--auth basic|md5]',
  options: { 'dev-id': { type: 'string' }, user: { type: 'string' }, pass: { type: 'string' }, auth: { type: 'string' } },
  async run(v) {
    const db = getContext().db;
    try {
      const { account, created } = addDsAccount(db, {
        devId: required(v, 'dev-id'), user: required(v, 'user'), pass: required(v, 'pass'),
        ...(v.auth ? { auth: v.auth as 'basic' | 'md5' } : {}),
      });
      insertAudit(db, { actor: 'cli', action: created ? 'ds-account.created' : 'ds-account.updated', deviceId: account.deviceId, details: { user: account.username, auth: account.auth } });
      console.log(`DS account ${account.username} ${created ? 'created' : 'updated'} (${account.auth}) for ${v['dev-id'] as string}`);
    } catch (err) {
      if (err instanceof ValidationError) throw new UsageError(`${err.message}${Object.keys(err.fieldErrors).length ? ` (${Object.entries(err.fieldErrors).map(([k, m]) => `${k}: ${m.join(', ')}`).join('; ')})` : ''}`);
      throw err;
    }
  },
};
