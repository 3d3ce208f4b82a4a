/**
 * `npm run bench`: the codec benchmark (codec.ts), the snapshot diff benchmark (diff.ts) and
 * the DM endpoint benchmark (dm.ts), every figure beside its baseline. Each also runs on its own:
 *
 *   npx tsx scripts/bench/codec.ts
 *   npx tsx scripts/bench/diff.ts
 *   npx tsx scripts/bench/dm.ts
 *   npx tsx scripts/bench/backup.ts
 *   npx tsx scripts/bench/restore.ts
 *   npx tsx scripts/bench/search.ts
 *   npx tsx scripts/bench/device-list.ts
 *   npx tsx scripts/bench/processes.ts
 *   npx tsx scripts/bench/memory.ts
 *   npx tsx scripts/bench/incremental.ts
 *
 * or some of them by name, in this order: `npm run bench -- incremental backup`.
 */
// Before anything imports lib/core/log.ts, which reads it once (dm.ts sets it too).
process.env.LOG_LEVEL = 'silent';

import os from 'node:os';
import { benchCodec, formatRows, type Row } from './codec';
import { benchDiff } from './diff';
import { benchDm } from './dm';
import { benchBackup } from './backup';
import { benchRestore } from './restore';
import { benchSearch } from './search';
import { benchDeviceList } from './device-list';
import { benchProcesses } from './processes';
import { benchMemory } from './memory';
import { benchIncremental } from './incremental';

const PARTS: Record<string, () => Promise<Row[]>> = {
  codec: () => benchCodec(),
  diff: () => benchDiff(),
  dm: () => benchDm(),
  backup: () => benchBackup(),
  incremental: () => benchIncremental(),
  restore: () => benchRestore(),
  search: () => benchSearch(),
  'device-list': () => benchDeviceList(),
  processes: () => benchProcesses(),
  memory: () => benchMemory(),
};

async function main(): Promise<void> {
  const started = performance.now();
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(a in PARTS));
  if (unknown.length)
    throw new Error(`unknown bench part(s) ${unknown.join(', ')}; known: ${Object.keys(PARTS).join(', ')}`);
  const rows: Row[] = [];
  for (const [name, run] of Object.entries(PARTS))
    if (!asked.length || asked.includes(name)) rows.push(...(await run()));
  console.log(formatRows(rows));
  const cpus = os.cpus();
  console.log(
    `\nnode ${process.version}, ${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${os.platform()}; ` +
      `${((performance.now() - started) / 1000).toFixed(0)} s. Reproduce: npm run bench ` +
      '(libwbxml2 rows need libwbxml2-utils: xml2wbxml, wbxml2xml).',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
