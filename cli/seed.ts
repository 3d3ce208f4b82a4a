/**
 * `rewind seed --devices N`: a large fleet for load and search testing (sim/seed.ts),
 * written in batches with its search terms; and `rewind search reindex`, which rebuilds the
 * search index from the subscribers, numbers and handsets stored.
 */
import { getContext } from '../lib/core/context';
import { SEED_BATCH_DEVICES, seedDevices } from '../sim/seed';
import { reindexAll } from '../db/queries/search';
import { positionals } from './args';
import { intOption, type Command } from './usage';

export const seedCommand: Command = {
  summary:
    'seed a large fleet for load and search testing: subscribers with 1-3 handsets each, UK MSISDNs, valid IMEIs',
  usage: '--devices N [--seed S]',
  options: { devices: { type: 'string' }, seed: { type: 'string' } },
  async run(v, pos) {
    positionals(pos, []);
    const devices = intOption(v, 'devices', 1000, 1, 1_000_000);
    const seed = intOption(v, 'seed', 1, 0, 2 ** 31 - 1);
    const { db } = getContext();
    const started = performance.now();
    const secs = () => ((performance.now() - started) / 1000).toFixed(1);
    const step = Math.max(SEED_BATCH_DEVICES, Math.ceil(devices / 10 / SEED_BATCH_DEVICES) * SEED_BATCH_DEVICES);
    let next = step;
    const r = await seedDevices(db, devices, {
      seed,
      onProgress: (done) => {
        if (done < next || done === devices) return;
        console.log(`  ${done.toLocaleString('en-US')} of ${devices.toLocaleString('en-US')} handsets (${secs()} s)`);
        next += step;
      },
    });
    console.log(
      `seeded ${r.devices.toLocaleString('en-US')} handsets for ${r.subscribers.toLocaleString('en-US')} subscribers in ${secs()} s`,
    );
  },
};

export const searchReindexCommand: Command = {
  summary: 'rebuild the search index from the stored subscribers, MSISDNs and handsets',
  usage: '',
  options: {},
  async run(_v, pos) {
    positionals(pos, []);
    const started = performance.now();
    const n = await reindexAll(getContext().db);
    console.log(
      `search index rebuilt for ${n.toLocaleString('en-US')} subscribers in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  },
};
