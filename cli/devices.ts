/** `rewind device show`: a device's DM account (each direction's scheme) and its latest DM sessions. */
import { getContext } from '../lib/core/context';
import { publicDevice } from '../lib/devices/present';
import { deviceDmSessions } from '../lib/gateway/session-views';
import { deviceArg, positionals } from './args';
import { formatTime, printJson, table } from './format';
import type { Command } from './usage';

export const deviceShow: Command = {
  summary: "show a device, its DM account's scheme each way and its latest DM sessions",
  usage: 'DEV_ID [--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    const [devId] = positionals(pos, ['DEV_ID']);
    const db = getContext().db;
    const row = await deviceArg(db, devId!);
    const device = publicDevice(row);
    const sessions = await deviceDmSessions(db, row);
    if (v.json) return printJson({ device, sessions });
    console.log(`${device.devId}  ${device.manufacturer} ${device.model}  firmware ${device.firmware ?? '-'}`);
    console.log(`server id         ${device.serverId}`);
    console.log(`client auth       ${device.clientAuth}  (how the handset proves itself to the server)`);
    console.log(`server auth       ${device.serverAuth}  (how the handset checks the server)`);
    console.log(`last seen (UTC)   ${device.lastSeenAt ? formatTime(device.lastSeenAt) : 'never'}`);
    if (!sessions.length) return console.log('no DM sessions yet');
    console.log('\nDM sessions, newest first:');
    console.log(
      table(sessions, [
        { header: 'started (UTC)', value: (s) => formatTime(s.startedAt) },
        { header: 'session', value: (s) => s.sessionId },
        { header: 'status', value: (s) => s.status },
        { header: 'messages', value: (s) => String(s.messages), align: 'right' },
        { header: 'note', value: (s) => [s.error, s.authChange].filter(Boolean).join('; ') },
      ]),
    );
  },
};
