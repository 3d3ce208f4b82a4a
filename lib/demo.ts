/**
 * `npm run demo`: a small fleet of virtual handsets living inside the server process. They
 * are provisioned on first start (kept under DATA_DIR/demo-handsets afterwards), listen for
 * Package #0 on the in-process push, open a session each at start, and then connect on
 * their own schedule, so the console always has fresh sessions to show.
 */
import path from 'node:path';
import { openFleet, summarize } from './device/fleet';
import type { SessionSummary, VirtualHandset } from './device/handset';
import { getContext } from './app-context';
import { describeVirtualModels, provisionFleet, publishVirtualCatalog } from './fleet-provision';
import { createBackupJob } from './backup/jobs';
import { createApiToken } from './tokens';
import { getDeviceByDevId } from '@/db/queries/devices';
import { wakeDevice } from './gateway/wake';
import { log } from './log';
import { createUser } from './auth/users';
import { getUserByEmail } from '@/db/queries/users';
import type { Db } from '@/db/client';

export interface DemoOptions {
  /** Base URL of this server as the handsets reach it, e.g. http://127.0.0.1:3000. */
  serverUrl: string;
  devices?: number;
  /** How often each handset connects by itself. Default 5 minutes. */
  everyMs?: number;
}

export async function startDemo(opts: DemoOptions): Promise<() => Promise<void>> {
  const ctx = getContext();
  const handsets: VirtualHandset[] = openFleet({
    server: `${opts.serverUrl}/dm`,
    devices: opts.devices ?? 12,
    stateDir: path.join(ctx.env.dataDir, 'demo-handsets'),
    encoding: 'mixed',
    auth: 'md5',
    mediaScale: 0.05,
    serverId: ctx.env.DM_SERVER_ID,
  });
  describeVirtualModels(ctx.db);
  // Firmware and app packages for the virtual models, so restores can reinstall them.
  await publishVirtualCatalog(ctx);
  provisionFleet(ctx.db, handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })), { inprocPush: true });
  const { token } = createApiToken(ctx.db, 'admin', 'demo');
  console.log(`Demo:           ${handsets.length} virtual handsets (XML and WBXML, MD5 both ways)`);
  console.log(`Demo API token: ${token}   (admin; e.g. curl -H "Authorization: Bearer ${token}" ${opts.serverUrl}/api/v1/devices)`);
  const signIns = await ensureDemoUsers(ctx.db, handsets[0] ? getDeviceByDevId(ctx.db, handsets[0].devId)?.subscriberId ?? null : null);
  console.log(`Demo sign-ins:  ${signIns.map((u) => `${u.email} / ${u.password} (${u.role})`).join(', ')}   at ${opts.serverUrl}/sign-in`);

  const sessions: SessionSummary[] = [];
  const stops: Array<() => void> = [];
  for (const h of handsets) {
    stops.push(h.listen(ctx.push.inproc));
    stops.push(h.onSession((s) => sessions.push(s)));
  }
  // Half are backed up on demand (Package #0, as an agent's button does), the other half
  // press their own backup button (a device-initiated backup), as on a real network.
  const first = handsets.map(async (h, i) => {
    await new Promise((r) => setTimeout(r, i * 300));
    const device = getDeviceByDevId(ctx.db, h.devId);
    if (!device) return;
    if (i % 2 === 0) {
      createBackupJob(ctx.db, device, { trigger: 'on-demand', actor: 'demo' });
      await wakeDevice(ctx.push, device, { version: ctx.env.NOTIFICATION_VERSION });
    } else {
      await h.pressBackupButton();
    }
    await h.idle();
  });
  void Promise.allSettled(first).then(() => {
    const s = summarize(handsets.length, sessions, 0);
    console.log(`Demo sessions:  ${s.ok} completed, ${s.failed} failed (first backups taken)`);
    for (const h of handsets) stops.push(h.startSchedule(opts.everyMs ?? 5 * 60_000));
  });
  return async () => {
    for (const stop of stops) stop();
    await Promise.race([Promise.all(handsets.map((h) => h.idle())), new Promise((r) => setTimeout(r, 5000))]);
    log.info('demo fleet stopped');
  };
}

/** Fixed, public demo credentials: for `npm run demo` only, never a real install. */
export const DEMO_USERS = [
  { email: 'admin@rewind.test', password: 'demo-admin-password', role: 'admin' },
  { email: 'agent@rewind.test', password: 'demo-agent-password', role: 'agent' },
  { email: 'subscriber@rewind.test', password: 'demo-subscriber-password', role: 'subscriber' },
] as const;

/** Creates the demo users that are missing (the subscriber one for the first demo handset's subscriber). */
export async function ensureDemoUsers(db: Db, subscriberId: string | null): Promise<Array<(typeof DEMO_USERS)[number]>> {
  const out: Array<(typeof DEMO_USERS)[number]> = [];
  for (const u of DEMO_USERS) {
    if (u.role === 'subscriber' && !subscriberId) continue;
    if (!getUserByEmail(db, u.email)) {
      await createUser(db, { ...u, ...(u.role === 'subscriber' ? { subscriberId: subscriberId! } : {}) });
    }
    out.push(u);
  }
  return out;
}
