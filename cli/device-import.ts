/**
 * `rewind device import FILE.csv`: the same all-or-nothing import as
 * POST /api/v1/devices/import (lib/devices/import.ts). Every bad row is listed on stderr
 * and nothing is written (exit 1).
 */
import fs from 'node:fs';
import { getContext } from '../lib/core/context';
import {
  DeviceImportError,
  formatRowError,
  IMPORT_MAX_BYTES,
  importDevicesAs,
  REQUIRED_COLUMNS,
} from '../lib/devices/import';
import { positionals } from './args';
import { UsageError, type Command } from './usage';

export const deviceImport: Command = {
  summary: 'provision every device of a CSV file, or none if any row is bad',
  usage: `FILE.csv   (header row: ${REQUIRED_COLUMNS.join(',')}[,firmware,pushAddress,email,clientAuth,serverAuth]; clientAuth may replace auth)`,
  options: {},
  async run(_v, pos) {
    const [file] = positionals(pos, ['FILE.csv']);
    let csv: string;
    try {
      const stat = fs.statSync(file!);
      if (!stat.isFile()) throw new UsageError(`${file} is not a file`);
      if (stat.size > IMPORT_MAX_BYTES)
        throw new UsageError(`${file} is larger than ${IMPORT_MAX_BYTES} bytes; split it`);
      csv = fs.readFileSync(file!, 'utf8');
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      const r = await importDevicesAs(getContext().db, csv, 'cli');
      console.log(
        `imported ${r.devices} device${r.devices === 1 ? '' : 's'} (${r.created} new, ${r.updated} updated; ${r.subscribersCreated} new subscriber${r.subscribersCreated === 1 ? '' : 's'})`,
      );
      return 0;
    } catch (err) {
      if (!(err instanceof DeviceImportError)) throw err;
      for (const e of err.rows) console.error(`${file}: ${formatRowError(e)}`);
      console.error(
        `rewind device import: ${err.rows.length} error${err.rows.length === 1 ? '' : 's'}; nothing was imported`,
      );
      return 1;
    }
  },
};
