/** `rewind firmware search`: fault and recall tracing, the console's firmware search from the command line. */
import { getContext } from '../lib/core/context';
import { AppError } from '../lib/core/errors';
import { firmwareSearchSchema, searchFirmwareRuns } from '../lib/devices/firmware-search';
import { positionals } from './args';
import { formatTime, printJson, table } from './format';
import { required, UsageError, type Command } from './usage';

export const firmwareSearch: Command = {
  summary: 'which handsets ran a firmware version between two days (UTC), with their last good backup',
  usage: 'VERSION --from YYYY-MM-DD --to YYYY-MM-DD [--json]',
  options: { from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' } },
  async run(v, pos) {
    const [firmware] = positionals(pos, ['VERSION']);
    const q = firmwareSearchSchema.safeParse({ firmware, from: required(v, 'from'), to: required(v, 'to') });
    if (!q.success) throw new UsageError(AppError.fromZod(q.error).message);
    const { hits, more } = await searchFirmwareRuns(getContext().db, q.data);
    if (v.json) return printJson({ hits, more });
    if (!hits.length)
      return console.log(`no handset reported ${q.data.firmware} between ${q.data.from} and ${q.data.to}`);
    console.log(
      table(hits, [
        { header: 'handset', value: (h) => h.devId },
        { header: 'model', value: (h) => h.model },
        { header: 'subscriber', value: (h) => h.subscriber?.name ?? '-' },
        { header: 'ran it from (UTC)', value: (h) => formatTime(h.from) },
        { header: 'until (UTC)', value: (h) => formatTime(h.to) },
        {
          header: 'last good backup (UTC)',
          value: (h) => (h.lastGoodBackup ? formatTime(h.lastGoodBackup.at) : 'none'),
        },
      ]),
    );
    if (more) console.log(`(only the first ${hits.length} are listed)`);
  },
};
