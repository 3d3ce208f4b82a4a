/**
 * `npm run demo`: a small fleet of virtual handsets living inside the server process. They
 * are provisioned on first start (kept under DATA_DIR/demo-handsets afterwards), listen for
 * Package #0 on the in-process push, open a session each at start, and then connect on
 * their own schedule, so the console always has fresh sessions to show.
 */
import path from 'node:path';
import { openFleet, summarize } from './fleet';
import type { SessionSummary, VirtualHandset } from './handset';
import { getContext } from '../lib/core/context';
import { describeVirtualModels, provisionFleet, publishVirtualCatalog } from './provision';
import { createBackupJob } from '../lib/backup/jobs';
import { createApiToken } from '../lib/auth/tokens';
import { getDeviceByDevId } from '@/db/queries/devices';
import { wakeDevice } from '../lib/gateway/wake';
import { log } from '../lib/core/log';
import { createUser } from '../lib/auth/users';
import { getUserByEmail } from '@/db/queries/users';
import type { Db } from '@/db/client';
import {
  backdateDeviceActivity,
  backdateNewestDsSnapshot,
  backdateNewestSnapshot,
  hasCompleteSnapshot,
} from '@/db/queries/demo';
import { getJob } from '@/db/queries/jobs';
import { lastCompleteSnapshot, listSnapshots } from '@/db/queries/snapshots';
import { createPlan } from '../lib/restore/plan';
import { executePlan } from '../lib/restore/engine';
import { dispatchWakes } from '../lib/jobs/wake-dispatcher';
import type { Category } from '../lib/omadm/mo/backup-restore';
import { withFaults } from './faults';
import { TransportError } from './transport';
import { createDsBackupJob } from '../lib/ds/jobs';

export interface DemoOptions {
  /** Base URL of this server as the handsets reach it, e.g. http://127.0.0.1:3000. */
  serverUrl: string;
  devices?: number;
  /** How often each handset connects by itself. Default 5 minutes. */
  everyMs?: number;
}

/** The demo's subscribers: twenty people, the first four with a second handset. */
export const DEMO_PEOPLE = [
  'Amelia Hughes',
  'Oliver Bennett',
  'Isla Chowdhury',
  'Noah Fraser',
  'Ava Kowalski',
  'Leo Okafor',
  'Mia Santos',
  'Arthur Lindqvist',
  'Freya Murphy',
  'Oscar Nakamura',
  'Grace Adeyemi',
  'Henry Walsh',
  'Lily Novak',
  'Jack Moreau',
  'Sophie Patel',
  'Harry Dubois',
  'Evie MacLeod',
  'George Haddad',
  'Poppy Jensen',
  'Theo Rossi',
] as const;

const SECOND_HANDSETS = 4;
const HISTORY_WEEKS = 4;

function demoOwner(_h: unknown, i: number): { subscriber: string; msisdn: string; email: string } {
  const p = i % DEMO_PEOPLE.length;
  const name = DEMO_PEOPLE[p]!;
  return {
    subscriber: name,
    msisdn: `4477009${String(10_000 + p * 37).padStart(5, '0')}`,
    email: `${name.toLowerCase().replace(/[^a-z]+/g, '.')}@example.net`,
  };
}

export interface RunningDemo {
  /** Settles when the first sessions (the history, on a fresh install) are done. */
  ready: Promise<void>;
  stop: () => Promise<void>;
  /** The virtual handsets, in the order they were made. */
  handsets: readonly VirtualHandset[];
}

export async function startDemo(opts: DemoOptions): Promise<RunningDemo> {
  const ctx = getContext();
  const handsets: VirtualHandset[] = openFleet({
    server: `${opts.serverUrl}/dm`,
    devices: opts.devices ?? DEMO_PEOPLE.length + SECOND_HANDSETS,
    stateDir: path.join(ctx.env.dataDir, 'demo-handsets'),
    encoding: 'mixed',
    auth: 'md5',
    mediaScale: 0.05,
    serverId: ctx.env.DM_SERVER_ID,
  });
  await describeVirtualModels(ctx.db);
  // Firmware and app packages for the virtual models, so restores can reinstall them.
  await publishVirtualCatalog(ctx);
  await provisionFleet(
    ctx.db,
    handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })),
    { inprocPush: true, owner: demoOwner },
  );
  const { token } = await createApiToken(ctx.db, 'admin', 'demo');
  console.log(
    `Demo:           ${handsets.length} virtual handsets of ${Math.min(handsets.length, DEMO_PEOPLE.length)} subscribers (XML and WBXML, MD5 both ways)`,
  );
  console.log(
    `Demo API token: ${token}   (admin; e.g. curl -H "Authorization: Bearer ${token}" ${opts.serverUrl}/api/v1/devices)`,
  );
  const signIns = await ensureDemoUsers(
    ctx.db,
    handsets[0] ? ((await getDeviceByDevId(ctx.db, handsets[0].devId))?.subscriberId ?? null) : null,
  );
  console.log(
    `Demo sign-ins:  ${signIns.map((u) => `${u.email} / ${u.password} (${u.role})`).join(', ')}   at ${opts.serverUrl}/sign-in`,
  );

  const sessions: SessionSummary[] = [];
  const stops: Array<() => void> = [];
  for (const h of handsets) {
    stops.push(h.listen(ctx.push.inproc));
    stops.push(h.onSession((s) => sessions.push(s)));
  }
  const fresh: VirtualHandset[] = [];
  for (const h of handsets) {
    const d = await getDeviceByDevId(ctx.db, h.devId);
    if (d && !(await hasCompleteSnapshot(ctx.db, d.id))) fresh.push(h);
  }
  const troubled = troubledHandsets(handsets);
  // An offline handset stays offline across restarts (the network is not part of its stored state).
  if (troubled && !fresh.includes(troubled.offline)) troubled.offline.setNetwork({ online: false });
  const ready = buildHistory(ctx, fresh)
    .then(async (lastWeek) => {
      if (troubled && fresh.includes(troubled.offline)) await makeTroubles(ctx, troubled, lastWeek);
    })
    .then(
      () => {
        const s = summarize(handsets.length, sessions, 0);
        console.log(
          `Demo sessions:  ${s.ok} completed, ${s.failed} failed${fresh.length ? ` (a ${HISTORY_WEEKS}-week history for ${fresh.length} handsets)` : ''}`,
        );
        // From now on the handsets connect by themselves; all stay reachable by Package #0, so restores complete live.
        for (const h of handsets) stops.push(h.startSchedule(opts.everyMs ?? 5 * 60_000));
      },
      (err: unknown) => log.error({ err }, 'demo history failed'),
    );
  return {
    ready,
    handsets,
    stop: async () => {
      for (const stop of stops) stop();
      await Promise.race([Promise.all(handsets.map((h) => h.idle())), new Promise((r) => setTimeout(r, 5000))]);
      log.info('demo fleet stopped');
    },
  };
}

/**
 * A few weeks of history made by real DM sessions: each week the handsets are used (settings
 * change, a contact changes and one is added; one in three loses its antivirus in the third
 * week, one in five an app's data), then backed up — half on an agent's order (Package #0),
 * half by the user's own backup button — and in the first and last weeks their contacts and
 * calendar are backed up through Data Sync too.
 * Each week's snapshots are then dated back to that week, so the timelines and diffs read like
 * a month of use; the last week is today.
 */
async function buildHistory(ctx: ReturnType<typeof getContext>, handsets: readonly VirtualHandset[]): Promise<number> {
  const now = Date.now();
  let lastWeek = now;
  for (let week = 0; week < HISTORY_WEEKS; week++) {
    if (week === HISTORY_WEEKS - 1) lastWeek = Date.now();
    await Promise.allSettled(
      handsets.map(async (h, i) => {
        await new Promise((r) => setTimeout(r, i * 150));
        const since = Date.now();
        if (week > 0) h.everydayUse(week);
        if (week === 2 && i % 3 === 0) h.damage('antivirus');
        if (week === 2 && i % 5 === 1) h.damage('appdata');
        const device = await getDeviceByDevId(ctx.db, h.devId);
        if (!device) return;
        if ((i + week) % 2 === 0) {
          await createBackupJob(ctx.db, device, { trigger: 'on-demand', actor: 'demo' });
          await wakeDevice(ctx.push, device, { version: ctx.env.NOTIFICATION_VERSION });
        } else {
          await h.pressBackupButton();
        }
        await h.idle();
        // Contacts and calendar through Data Sync, ordered through DM: the first week and the last.
        // (Before the dating back: a handset whose last backup looks old is backed up when it connects.)
        const ds = week === 0 || week === HISTORY_WEEKS - 1;
        if (ds) {
          // The device row as the session left it: Package #0 is signed with the nonce it agreed.
          const fresh = (await getDeviceByDevId(ctx.db, h.devId))!;
          const { job } = await createDsBackupJob(ctx.db, fresh, { actor: 'demo', wake: false });
          await wakeDevice(ctx.push, fresh, { version: ctx.env.NOTIFICATION_VERSION });
          await h.idle();
          await jobDone(ctx, job.id, 60_000);
        }
        const weeksAgo = HISTORY_WEEKS - 1 - week;
        const at = now - weeksAgo * 7 * 86_400_000 - (i % 12) * 3_600_000;
        if (weeksAgo > 0) {
          // The week's sessions, firmware reports and jobs go back with its snapshots.
          await backdateDeviceActivity(ctx.db, device.id, since, Date.now() - at);
          await backdateNewestSnapshot(ctx.db, device.id, at);
          if (ds) await backdateNewestDsSnapshot(ctx.db, device.id, at + 600_000);
        }
      }),
    );
  }
  return lastWeek;
}

/** The demo's handsets in trouble: the last six of a fleet of at least seven (the first stays ordinary). */
export interface TroubledHandsets {
  /** Has not connected for days; an agent's backup waits for it, its Package #0 unanswered. */
  offline: VirtualHandset;
  /** Roaming abroad; its user declined the restore an agent started. */
  roaming: VirtualHandset;
  /** At home; its user rejected the restore prompt. */
  rejecting: VirtualHandset;
  /** Its user re-typed the account's password wrongly: every session fails authentication. */
  wrongPassword: VirtualHandset;
  /** Its firmware got corrupted; the update back to the recorded version failed (the download was cut off). */
  firmware: VirtualHandset;
  /** A backup whose session was cut off, then taken again when it came back. */
  retried: VirtualHandset;
}

export function troubledHandsets(handsets: readonly VirtualHandset[]): TroubledHandsets | undefined {
  const n = handsets.length;
  if (n < 7) return undefined;
  return {
    offline: handsets[n - 1]!,
    roaming: handsets[n - 2]!,
    rejecting: handsets[n - 3]!,
    wrongPassword: handsets[n - 4]!,
    firmware: handsets[n - 5]!,
    retried: handsets[n - 6]!,
  };
}

const AGENT = 'agent@rewind.test';
const DAY_MS = 86_400_000;

/**
 * What goes wrong in real fleets, made by real sessions against the real endpoint after the
 * history, so every panel of these handsets' pages has something true in it.
 */
async function makeTroubles(ctx: ReturnType<typeof getContext>, t: TroubledHandsets, lastWeek: number): Promise<void> {
  const device = async (h: VirtualHandset) => (await getDeviceByDevId(ctx.db, h.devId))!;
  /** A restore an agent starts, from the handset's newest backup or (settings) its oldest, which differs. */
  const restore = async (h: VirtualHandset, categories: Category[], reason: string, from: 'newest' | 'oldest') => {
    const d = await device(h);
    const snapshot =
      from === 'newest'
        ? await lastCompleteSnapshot(ctx.db, d.id)
        : (await listSnapshots(ctx.db, d.id, { status: 'complete' })).at(-1);
    if (!snapshot) return;
    const { row } = await createPlan(ctx, { snapshotId: snapshot.id, categories, allowFirmwareDowngrade: true }, AGENT);
    const { job } = await executePlan(ctx, row.id, AGENT, reason);
    // Package #0 now, as the server's wake dispatcher would within a second (and kept on the job).
    await dispatchWakes(ctx);
    await jobDone(ctx, job.id, 60_000);
  };

  // Offline for days: its last week's sessions were three days ago; an agent's backup now waits.
  t.offline.setNetwork({ online: false });
  await backdateDeviceActivity(ctx.db, (await device(t.offline)).id, lastWeek, 3 * DAY_MS);
  await createBackupJob(ctx.db, await device(t.offline), { trigger: 'on-demand', actor: AGENT, wake: true });
  await dispatchWakes(ctx);

  await Promise.allSettled([
    (async () => {
      // Roaming: the restore prompt quotes roaming charges, and the user says no.
      t.roaming.setNetwork({ bearer: 'cellular', roaming: true, operator: 'Orbit Roam' });
      t.roaming.user.setBehaviour('reject');
      await t.roaming.connect();
      await restore(t.roaming, ['settings'], 'wants the settings of a month ago back', 'oldest');
      t.roaming.user.setBehaviour('accept');
    })(),
    (async () => {
      t.rejecting.user.setBehaviour('reject');
      await restore(t.rejecting, ['settings'], 'subscriber called about changed settings', 'oldest');
      t.rejecting.user.setBehaviour('accept');
    })(),
    (async () => {
      t.wrongPassword.setClientPassword('wrong-password-typed-on-the-handset');
      // One session: three refused tries (its next ones meet the rate limit).
      await t.wrongPassword.connect();
    })(),
    (async () => {
      // The seeds' fault: a corrupted firmware; putting the recorded version back fails when
      // the package download is cut off.
      t.firmware.damage('firmware');
      await t.firmware.connect();
      const inner = t.firmware.transport;
      t.firmware.transport = async (req) => {
        if (req.method === 'GET' && req.url.includes('/packages/'))
          throw new TransportError('dropped', 'the download was cut off');
        return inner(req);
      };
      await restore(t.firmware, ['firmware'], 'firmware corrupted: put back the recorded version', 'newest');
      t.firmware.transport = inner;
    })(),
    (async () => {
      // The backup's session is cut off mid-way (the reply to its second message is lost); the
      // handset comes back by itself and the backup is taken again. Its user turned the ring
      // volume up since the last backup, so the backup has more to do than its first answers
      // (an unchanged handset's is over by its second message).
      const volume = './Settings/Sound/RingVolume';
      t.retried.tree.set(volume, String((Number(t.retried.tree.text(volume) ?? '0') + 1) % 8), { format: 'int' });
      const inner = t.retried.transport;
      t.retried.transport = withFaults(inner, { rules: [{ kind: 'drop-reply', at: 2 }] });
      const { job } = await createBackupJob(ctx.db, await device(t.retried), {
        trigger: 'on-demand',
        actor: AGENT,
        wake: false,
      });
      await t.retried.connect();
      t.retried.transport = inner;
      await t.retried.connect();
      await t.retried.idle();
      await jobDone(ctx, job.id, 60_000);
    })(),
  ]);
}

/** Waits for a job to end (or `ms` to pass): the demo's history goes one step at a time. */
async function jobDone(ctx: ReturnType<typeof getContext>, jobId: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const j = await getJob(ctx.db, jobId);
    if (!j || (j.status !== 'queued' && j.status !== 'running')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Fixed, public demo credentials: for `npm run demo` only, never a real install. */
export const DEMO_USERS = [
  { email: 'admin@rewind.test', password: 'demo-admin-password', role: 'admin' },
  { email: 'agent@rewind.test', password: 'demo-agent-password', role: 'agent' },
  { email: 'subscriber@rewind.test', password: 'demo-subscriber-password', role: 'subscriber' },
] as const;

/** Creates the demo users that are missing (the subscriber one for the first demo handset's subscriber). */
export async function ensureDemoUsers(
  db: Db,
  subscriberId: string | null,
): Promise<Array<(typeof DEMO_USERS)[number]>> {
  const out: Array<(typeof DEMO_USERS)[number]> = [];
  for (const u of DEMO_USERS) {
    if (u.role === 'subscriber' && !subscriberId) continue;
    if (!(await getUserByEmail(db, u.email))) {
      await createUser(db, { ...u, ...(u.role === 'subscriber' ? { subscriberId: subscriberId! } : {}) });
    }
    out.push(u);
  }
  return out;
}
