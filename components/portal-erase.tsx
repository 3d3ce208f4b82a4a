'use client';
/** "Delete my backups": the subscriber types the handset's name to confirm. */
import type { ActionResult } from '@/lib/core/action-result';
import { EraseConfirm } from './erase-confirm';

export function PortalErase({
  deviceId,
  name,
  count,
  action,
}: {
  deviceId: string;
  name: string;
  count: number;
  action: (
    prev: null,
    input: { deviceId: string; confirm: string },
  ) => Promise<ActionResult<{ snapshots: number; held: number; localBackups: number }>>;
}) {
  return (
    <EraseConfirm
      name={name}
      empty={count === 0}
      emptyText="There are no backups of this handset to delete."
      openLabel="Delete my backups…"
      warning={`This deletes all ${count} backup${count === 1 ? '' : 's'} of ${name} kept by Rewind, and forgets the backups the handset reported keeping itself. It cannot be undone, and you cannot restore from them afterwards.`}
      confirmLabel="Delete all backups of this handset"
      run={(confirm) => action(null, { deviceId, confirm })}
      doneText={(d) =>
        `Deleted ${d.snapshots} backup${d.snapshots === 1 ? '' : 's'}${d.held ? `; ${d.held} kept under a legal hold` : ''}`
      }
    />
  );
}
