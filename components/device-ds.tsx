/**
 * The device page's "Contacts and calendar" section: the handset's DS accounts with each
 * store's last sync, and its DS backups with what each session changed, links to browse one
 * and to diff it with the one before. Server-rendered; `browse` false (the portal) lists
 * without links.
 */
import Link from 'next/link';
import type { PublicDsAccount, PublicDsSnapshot } from '@/lib/ds/views';
import { STORE_LABEL, storeChangeText } from '@/lib/ds/views';
import { formatAge, formatBytes, formatTime } from '@/lib/core/format';
import { Badge, EmptyState, Table, tdClass, thClass } from './ui';

type Backup = PublicDsSnapshot & { previousId: string | null };

function When({ at, now }: { at: number | null; now: number }) {
  if (at === null) return <>never</>;
  return (
    <time dateTime={new Date(at).toISOString()} title={formatTime(at)}>
      {formatAge(at, now)}
    </time>
  );
}

export function DsAccounts({ accounts, now }: { accounts: PublicDsAccount[]; now: number }) {
  return (
    <ul className="space-y-2 text-sm">
      {accounts.map((a) => (
        <li key={a.id} className="rounded border border-slate-200 px-3 py-2">
          <div className="flex flex-wrap items-center gap-2">
            <span className="font-mono break-all">{a.username}</span>
            <Badge>{a.auth === 'md5' ? 'MD5' : 'basic or MD5'}</Badge>
          </div>
          {a.stores.length ? (
            <ul className="mt-1 text-xs text-slate-600">
              {a.stores.map((s) => (
                <li key={s.store}>
                  {STORE_LABEL[s.store]}: last synced <When at={s.syncedAt} now={now} />
                  {s.lastSyncType ? ` (${s.lastSyncType})` : ''}
                </li>
              ))}
            </ul>
          ) : (
            <p className="mt-1 text-xs text-slate-600">Not synced yet.</p>
          )}
        </li>
      ))}
    </ul>
  );
}

function Changes({ s }: { s: PublicDsSnapshot }) {
  const parts = (['contacts', 'calendar'] as const)
    .map((store) => [store, storeChangeText(s.changes[store])] as const)
    .filter(([, t]) => t);
  if (!parts.length) return <span className="text-slate-500">nothing changed</span>;
  return (
    <>
      {parts.map(([store, t]) => (
        <div key={store}>
          {STORE_LABEL[store]}: {t}
        </div>
      ))}
    </>
  );
}

export function DsBackups({
  deviceId,
  backups,
  now,
  browse = true,
}: {
  deviceId: string;
  backups: Backup[];
  now: number;
  browse?: boolean;
}) {
  return (
    <Table caption="Contacts and calendar backups">
      <thead>
        <tr>
          {/* Below a tablet's width only when, contacts and events: a phone's screen never scrolls sideways. */}
          <th className={thClass}>When</th>
          <th className={`${thClass} hidden sm:table-cell`}>Sync</th>
          <th className={thClass}>Contacts</th>
          <th className={thClass}>Events</th>
          <th className={`${thClass} hidden sm:table-cell`}>Size</th>
          <th className={`${thClass} hidden sm:table-cell`}>New content</th>
          <th className={`${thClass} hidden sm:table-cell`}>Changes</th>
          {browse ? (
            <th className={thClass}>
              <span className="sr-only">Links</span>
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {backups.map((s) => (
          <tr key={s.id}>
            <td className={`${tdClass} whitespace-nowrap`}>
              <When at={s.createdAt} now={now} />
            </td>
            <td className={`${tdClass} hidden sm:table-cell`}>{s.syncType}</td>
            <td className={tdClass}>{s.contacts}</td>
            <td className={tdClass}>{s.events}</td>
            <td className={`${tdClass} hidden whitespace-nowrap sm:table-cell`}>{formatBytes(s.bytes)}</td>
            <td className={`${tdClass} hidden whitespace-nowrap sm:table-cell`}>{formatBytes(s.newBytes)}</td>
            <td className={`${tdClass} hidden text-xs sm:table-cell`}>
              <Changes s={s} />
            </td>
            {browse ? (
              <td className={`${tdClass} whitespace-nowrap`}>
                {/* The visible words begin the accessible name; the backup's time tells the rows apart. */}
                <Link href={`/devices/${deviceId}/ds/${s.id}`} className="text-sky-700 hover:underline">
                  Browse<span className="sr-only"> the DS backup of {formatTime(s.createdAt)}</span>
                </Link>
                {s.previousId ? (
                  <>
                    {' · '}
                    <Link
                      href={`/devices/${deviceId}/ds/diff?from=${s.previousId}&to=${s.id}`}
                      className="text-sky-700 hover:underline"
                    >
                      Diff with previous<span className="sr-only">: the DS backup of {formatTime(s.createdAt)}</span>
                    </Link>
                  </>
                ) : null}
                {s.jobId ? (
                  <>
                    {' · '}
                    <Link href={`/jobs/${s.jobId}`} className="text-sky-700 hover:underline">
                      Job<span className="sr-only"> that ordered the DS backup of {formatTime(s.createdAt)}</span>
                    </Link>
                  </>
                ) : null}
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

export function DeviceDs({
  deviceId,
  accounts,
  backups,
  more,
  now,
  isAdmin,
  browse = true,
}: {
  deviceId: string;
  accounts: PublicDsAccount[];
  backups: Backup[];
  more: boolean;
  now: number;
  isAdmin: boolean;
  browse?: boolean;
}) {
  if (!accounts.length && !backups.length) {
    return (
      <EmptyState title="No contacts or calendar backups yet">
        <p>
          Contacts and calendar are backed up when the handset&apos;s Data Sync client syncs with Rewind, which needs a
          DS account for this handset.{' '}
          {isAdmin ? (
            <Link href="/admin/ds" className="text-sky-700 underline">
              Set up a DS account
            </Link>
          ) : (
            'An administrator can set one up under DS accounts.'
          )}
        </p>
      </EmptyState>
    );
  }
  return (
    <div className="space-y-4">
      <div>
        <h3 className="mb-2 text-sm font-medium">DS accounts</h3>
        {accounts.length ? (
          <DsAccounts accounts={accounts} now={now} />
        ) : (
          <p className="text-sm text-slate-600">
            This handset has no DS account any more.
            {isAdmin ? (
              <>
                {' '}
                <Link href="/admin/ds" className="text-sky-700 underline">
                  Set one up
                </Link>
                .
              </>
            ) : null}
          </p>
        )}
      </div>
      <div>
        <h3 className="mb-2 text-sm font-medium">
          Backups ({backups.length}
          {more ? '+' : ''})
        </h3>
        {backups.length ? (
          <DsBackups deviceId={deviceId} backups={backups} now={now} browse={browse} />
        ) : (
          <p className="text-sm text-slate-600">
            No sync has completed yet: the first one the handset runs becomes its first backup.
          </p>
        )}
        {more ? (
          <p className="mt-2 text-xs text-slate-500">
            The {backups.length} newest are listed; the REST API lists older ones.
          </p>
        ) : null}
      </div>
    </div>
  );
}
