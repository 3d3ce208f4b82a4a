/**
 * `rewind config check`: this process's configuration beside the deployment's identity (its
 * blob store and the fingerprint of its master key), setting by setting. It reads only: it
 * runs where every other command would be refused, to say why.
 */
import { closeDb, openDatabase } from '../db/client';
import { prepareDb } from '../db/prepare';
import { checkDeployment } from '../lib/core/deployment';
import { env } from '../lib/core/env';
import { positionals } from './args';
import { printJson, table } from './format';
import type { Command } from './usage';

export const configCheck: Command = {
  summary:
    "compare this configuration (blob store, master key) with the deployment's; exit 1 when a process here would be refused",
  usage: '[--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    positionals(pos, []);
    const e = env();
    const db = await prepareDb(openDatabase(e));
    try {
      const { recorded, checks, reason } = await checkDeployment(db, e);
      if (v.json === true) {
        printJson({ recorded, ok: !reason, checks, ...(reason ? { reason } : {}) });
        return reason ? 1 : 0;
      }
      console.log(
        table(checks, [
          { header: 'setting', value: (c) => c.setting },
          { header: 'here', value: (c) => c.here },
          { header: 'deployment', value: (c) => c.deployment },
          { header: '', value: (c) => (!c.same ? 'DIFFERS' : recorded ? 'same' : '') },
        ]),
      );
      if (reason) console.log(`\nrefused: ${reason}`);
      else if (!recorded)
        console.log("\nno identity recorded yet: the first server process or command records this configuration's");
      else console.log("\nthis configuration is the deployment's: processes and commands here may run");
      return reason ? 1 : 0;
    } finally {
      await closeDb(db);
    }
  },
};
