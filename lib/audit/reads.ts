/**
 * Reading a subscriber's personal data is recorded like a change: which agent or admin looked
 * at which backup's content, contacts, certificates or pictures, and when. Written by the view
 * functions that read the data (lib/backup/browse.ts, lib/ds/views.ts), not by the pages, so
 * every way in is recorded alike.
 *
 * The same person reading the same thing again within a few minutes (a gallery's pictures
 * loading, a reload, the next page of a search) is one entry, not a flood that buries the rest.
 * A subscriber reading their own data is not recorded: it is theirs.
 */
import type { Db } from '@/db/client';
import { insertAudit, searchAudit } from '@/db/queries/audit';

/** A repeat of the same read by the same person within this long is not recorded again. */
export const READ_REPEAT_MS = 10 * 60_000;

export interface Reader {
  role: string;
  email: string;
}

export async function auditPersonalRead(
  db: Db,
  reader: Reader,
  e: { action: string; deviceId: string; details: Record<string, unknown> },
  now = Date.now(),
): Promise<boolean> {
  if (reader.role === 'subscriber') return false;
  const details = JSON.stringify(e.details);
  const recent = await searchAudit(
    db,
    {
      deviceId: e.deviceId,
      actor: { exact: reader.email },
      action: { exact: e.action },
      since: now - READ_REPEAT_MS,
    },
    { limit: 100 },
  );
  if (recent.some((r) => r.details === details)) return false;
  await insertAudit(db, { actor: reader.email, action: e.action, deviceId: e.deviceId, details: e.details });
  return true;
}
