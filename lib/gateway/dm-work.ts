/**
 * What the server asks of a handset in a session, and what it does with the answers.
 * Every session refreshes the handset's inventory (firmware, network state); queued jobs
 * for the handset run in the same session. Later domains (backup, restore) plug in here.
 */
import type { AppContext } from '../app-context';
import type { DeviceRow } from '@/db/queries/devices';
import { updateDevice } from '@/db/queries/devices';
import { jobsInSession, runnableJobs, updateJob } from '@/db/queries/jobs';
import { insertAudit } from '@/db/queries/audit';
import type { SessionEvent, WorkRequest } from '../omadm/session/server';
import { utf8Decode, base64Decode } from '../omadm/util/bytes';
import { createHash } from 'node:crypto';

const INVENTORY = 'inventory';
const INVENTORY_PATHS = ['./DevDetail/FwV', './DevDetail/SwV', './DevDetail/HwV', './Ext/Network/Bearer', './Ext/Network/Roaming', './Ext/Network/Operator'];

/** A job of kind 'dm-commands' carries engine work requests as-is (used by tests and operators' scripts). */
export interface DmCommandsPayload { work: WorkRequest[] }

export function workForNewSession(ctx: AppContext, device: DeviceRow, sessionRowId: string, now: number): WorkRequest[] {
  const work: WorkRequest[] = [{ id: INVENTORY, kind: 'get', paths: INVENTORY_PATHS } as WorkRequest];
  return work.concat(claimJobs(ctx, device, sessionRowId, now));
}

/** Queued jobs for the handset join this session; each work id is prefixed with its job's id. */
function claimJobs(ctx: AppContext, device: DeviceRow, sessionRowId: string, now: number): WorkRequest[] {
  const out: WorkRequest[] = [];
  for (const job of runnableJobs(ctx.db, device.id, now)) {
    if (job.kind !== 'dm-commands') continue;
    const payload = JSON.parse(job.payload) as DmCommandsPayload;
    updateJob(ctx.db, job.id, { status: 'running', attempts: job.attempts + 1, sessionRef: sessionRowId });
    for (const w of payload.work) out.push({ ...w, id: `${job.id}:${w.id}` } as WorkRequest);
  }
  return out;
}

type Ev = SessionEvent & { type: string; [k: string]: unknown };

export function handleSessionEvents(ctx: AppContext, device: DeviceRow, sessionRowId: string, events: SessionEvent[], now: number): WorkRequest[] {
  const inventory: Record<string, string> = {};
  for (const raw of events) {
    const e = raw as Ev;
    if (e.type === 'result' && e.workId === INVENTORY && e.status === 200) {
      inventory[String(e.path)] = valueText(e.value);
    } else if (e.type === 'devinfo') {
      const info = e.values as Record<string, string>;
      updateDevice(ctx.db, device.id, {
        deviceInfo: JSON.stringify(info),
        ...(info['./DevInfo/Man'] ? { manufacturer: info['./DevInfo/Man'] } : {}),
        ...(info['./DevInfo/Mod'] ? { model: info['./DevInfo/Mod'] } : {}),
      });
    } else if (e.type === 'generic-alert') {
      insertAudit(ctx.db, { actor: `device:${device.devId}`, action: 'dm.generic-alert', deviceId: device.id, details: e });
    }
  }
  if (Object.keys(inventory).length) {
    updateDevice(ctx.db, device.id, {
      ...(inventory['./DevDetail/FwV'] ? { firmware: inventory['./DevDetail/FwV'] } : {}),
      networkState: JSON.stringify({
        bearer: inventory['./Ext/Network/Bearer'] ?? null,
        roaming: inventory['./Ext/Network/Roaming'] === 'true',
        operator: inventory['./Ext/Network/Operator'] ?? null,
      }),
    });
  }
  recordJobEvents(ctx, events);
  if (events.some((e) => e.type === 'session-end')) finishJobs(ctx, sessionRowId);
  void now;
  return [];
}

/**
 * When the session ends, each job it ran is done: succeeded when every command it sent
 * was answered with a 2xx, failed otherwise (the events kept on the job say which).
 */
function finishJobs(ctx: AppContext, sessionRowId: string): void {
  for (const job of jobsInSession(ctx.db, sessionRowId)) {
    const events = job.result ? (JSON.parse(job.result) as { events: Array<{ type: string; status?: number }> }).events : [];
    const answered = events.filter((e) => e.type === 'status' || e.type === 'result' || e.type === 'ui');
    const bad = answered.filter((e) => e.status === undefined || e.status < 200 || e.status > 299);
    updateJob(ctx.db, job.id, bad.length || answered.length === 0
      ? { status: 'failed', error: answered.length ? `${bad.length} of ${answered.length} commands failed` : 'the session ended before any command was answered' }
      : { status: 'succeeded' });
  }
}

/** Results and statuses of 'dm-commands' jobs are kept on the job; values as size and SHA-256. */
function recordJobEvents(ctx: AppContext, events: SessionEvent[]): void {
  const byJob = new Map<string, unknown[]>();
  for (const raw of events) {
    const e = raw as Ev;
    const wid = typeof e.workId === 'string' ? e.workId : undefined;
    if (!wid || !wid.includes(':')) continue;
    const jobId = wid.slice(0, wid.indexOf(':'));
    const value = e.value === undefined ? undefined : toBytes(e.value);
    const summary = { ...e, value: undefined, ...(value ? { size: value.length, sha256: createHash('sha256').update(value).digest('hex') } : {}) };
    (byJob.get(jobId) ?? byJob.set(jobId, []).get(jobId)!).push(summary);
  }
  for (const [jobId, list] of byJob) {
    const job = ctx.db.query.jobs.findFirst({ where: (j, { eq }) => eq(j.id, jobId) }).sync();
    if (!job) continue;
    const prev = job.result ? (JSON.parse(job.result) as { events: unknown[] }).events : [];
    updateJob(ctx.db, jobId, { result: JSON.stringify({ events: prev.concat(list) }) });
  }
}

function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return base64Decode(v);
  return new Uint8Array(0);
}

function valueText(v: unknown): string {
  return utf8Decode(toBytes(v), false);
}
