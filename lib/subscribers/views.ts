/**
 * Subscribers as agents and the API see them: search hits, one subscriber with their
 * handsets, their consent ledger, and the console's subscriber page, each read at one instant.
 */
import type { Db } from '@/db/client';
import { getDevice } from '@/db/queries/devices';
import { listConsents } from '@/db/queries/restore';
import { decodeCursor, pageOf, timeKeySchema, type PageQuery } from '../core/paging';
import { searchSubscribers } from '@/db/queries/search';
import { lastCompleteSnapshot } from '@/db/queries/snapshots';
import {
  devicesOfSubscriber,
  getSubscriber,
  subscriberActivity,
  type SubscriberSummary,
} from '@/db/queries/subscribers';
import { json } from '../backup/views';
import { formatTime } from '../core/format';
import { publicDevice } from '../devices/present';
import { publicConsent } from '../restore/views';
import { SEARCH_LIMIT, type SearchHit } from '../search/search';

/** Subscribers by name or email prefix, by MSISDN in any usual form, or by IMEI prefix; best first. */
export async function findSubscribers(db: Db, q: string, limit = SEARCH_LIMIT): Promise<SearchHit[]> {
  return searchSubscribers(db, q, limit);
}

/** The subscriber with this id (their MSISDNs, email and handset count), for callers that see every subscriber. */
export async function findSubscriber(db: Db, id: string): Promise<SubscriberSummary | undefined> {
  return getSubscriber(db, id);
}

/** What GET /subscribers/{id} answers: the subscriber and their handsets; undefined when there is none. */
export async function subscriberDetail(db: Db, id: string) {
  const subscriber = await getSubscriber(db, id);
  if (!subscriber) return undefined;
  return { subscriber, devices: (await devicesOfSubscriber(db, id)).map(publicDevice) };
}

/** The consent ledger of a subscriber's handsets, newest first, each entry with its handset's DevId. */
export async function subscriberConsents(db: Db, subscriberId: string, q: PageQuery) {
  const devIds = new Map<string, string | undefined>(
    (await devicesOfSubscriber(db, subscriberId)).map((d) => [d.id, d.devId]),
  );
  const after = decodeCursor(timeKeySchema, q.cursor);
  const page = pageOf(await listConsents(db, { subscriberId }, q.limit + 1, after), q.limit, (c) => ({
    at: c.at,
    id: c.id,
  }));
  const entries = page.items;
  // A handset since moved to another subscriber keeps its entries here: they were answered for this one.
  for (const c of entries)
    if (!devIds.has(c.deviceId)) devIds.set(c.deviceId, (await getDevice(db, c.deviceId))?.devId);
  return {
    consents: entries.map((c) => publicConsent(c, devIds.get(c.deviceId))),
    nextCursor: page.nextCursor,
    limit: q.limit,
  };
}

/** A network state column as a person reads it: "Wi-Fi", "cellular, roaming (Orbit)". */
function networkText(raw: string | null): string {
  const n = json(raw) as { bearer?: string | null; roaming?: boolean; operator?: string | null } | null;
  if (!n || typeof n !== 'object') return '-';
  const bearer = n.bearer === 'wifi' ? 'Wi-Fi' : (n.bearer ?? 'unknown bearer');
  return `${bearer}${n.roaming ? ', roaming' : ''}${n.operator ? ` (${n.operator})` : ''}`;
}

/** The console's subscriber page, read at one instant (`now` for every age on it). */
export async function subscriberPage(db: Db, subscriberId: string) {
  const now = Date.now();
  const devices = [];
  for (const d of await devicesOfSubscriber(db, subscriberId))
    devices.push({ d, last: await lastCompleteSnapshot(db, d.id) });
  const devIds = new Map(devices.map(({ d }) => [d.id, d.devId]));

  const activity = (await subscriberActivity(db, subscriberId, 30)).map((e) =>
    e.type === 'job'
      ? {
          key: `j-${e.job.id}`,
          at: e.at,
          deviceId: e.deviceId,
          devId: e.devId,
          href: `/jobs/${e.job.id}`,
          what: `${e.job.kind[0]!.toUpperCase()}${e.job.kind.slice(1)} job`,
          status: e.job.status,
          detail:
            e.job.error ??
            (e.job.status === 'queued' && e.job.notBefore && e.job.notBefore > now
              ? `waits until ${formatTime(e.job.notBefore)}`
              : ''),
        }
      : {
          key: `s-${e.snapshot.id}`,
          at: e.at,
          deviceId: e.deviceId,
          devId: e.devId,
          href: `/devices/${e.deviceId}/snapshots/${e.snapshot.id}`,
          what: `Backup (${e.snapshot.trigger})`,
          status: e.snapshot.status,
          detail: e.snapshot.error ?? `${e.snapshot.entries} nodes`,
        },
  );

  const consents = (await listConsents(db, { subscriberId }, 100)).map((c) => ({
    id: c.id,
    at: c.at,
    deviceId: c.deviceId,
    devId: devIds.get(c.deviceId) ?? c.deviceId,
    jobId: c.jobId,
    prompt: c.prompt,
    answer: c.answer,
    cost: c.cost,
    network: networkText(c.network),
  }));

  return { now, devices, activity, consents };
}
