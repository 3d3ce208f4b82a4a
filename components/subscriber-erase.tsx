'use client';
/** An admin's "Erase subscriber", confirmed by typing their name; then back to search. */
import type { ActionResult } from '@/lib/core/action-result';
import { EraseConfirm } from './erase-confirm';

export function SubscriberErase({
  subscriberId,
  name,
  devices,
  action,
}: {
  subscriberId: string;
  name: string;
  devices: number;
  action: (
    prev: null,
    input: { subscriberId: string; confirm: string },
  ) => Promise<ActionResult<{ devices: number; snapshots: number }>>;
}) {
  return (
    <EraseConfirm
      name={name}
      openLabel="Erase subscriber…"
      warning={`This erases ${name}: their ${devices} handset record${devices === 1 ? '' : 's'}, every backup of them (settings, media, apps, contacts and calendar), their portal sign-in, and their encryption keys, so nothing of theirs can be read again. The audit log keeps that it happened. It cannot be undone.`}
      confirmLabel="Erase this subscriber and all their backups"
      run={(confirm) => action(null, { subscriberId, confirm })}
      doneText={(d) =>
        `Erased ${name}: ${d.devices} handset${d.devices === 1 ? '' : 's'}, ${d.snapshots} backup${d.snapshots === 1 ? '' : 's'}`
      }
      then="/"
    />
  );
}
