import type { Metadata } from 'next';
import Link from 'next/link';
import { getContext } from '@/lib/core/context';
import { requireViewer } from '@/lib/server/action';
import { portalDevices } from '@/lib/subscribers/portal';
import { PortalBackupNow } from '@/components/portal-backup-now';
import { Card, EmptyState, Facts, PageHeader } from '@/components/ui';
import { backUpNowAction } from './actions';

export const metadata: Metadata = { title: 'My devices · Rewind' };
export const dynamic = 'force-dynamic';

/** The subscriber's own handsets, each with its last backup and "Back up now". */
export default async function PortalPage() {
  const viewer = await requireViewer(['subscriber']);
  const { db, env } = getContext();
  const mine = await portalDevices(db, viewer, undefined, {
    homePerMb: env.COST_PER_MB_HOME,
    roamingPerMb: env.COST_PER_MB_ROAMING,
    currency: env.COST_CURRENCY,
  });
  return (
    <div>
      <PageHeader
        title="My devices"
        subtitle="Your handsets and their backups. Back up now, or restore from any backup."
      />
      {mine.length === 0 ? (
        <EmptyState title="No handset is registered to you yet">
          When your operator registers a handset to you, it shows here.
        </EmptyState>
      ) : (
        <ul className="grid gap-4 md:grid-cols-2">
          {mine.map((d) => (
            <li key={d.id}>
              <Card
                title={
                  <Link
                    href={`/portal/devices/${d.id}`}
                    className="underline decoration-slate-300 hover:decoration-slate-900"
                  >
                    {d.name}
                  </Link>
                }
              >
                <Facts
                  items={[
                    [
                      'Handset',
                      <span key="id" className="font-mono">
                        {d.devId}
                      </span>,
                    ],
                    ['Firmware', d.firmware ?? 'not reported yet'],
                    ['Last seen', d.lastSeen],
                    [
                      'Last backup',
                      d.lastBackupAt ? (
                        <time key="b" dateTime={new Date(d.lastBackupAt).toISOString()}>
                          {d.lastBackup}
                        </time>
                      ) : (
                        d.lastBackup
                      ),
                    ],
                    ['A backup costs', d.backupCost],
                  ]}
                />
                <div className="mt-3 flex flex-wrap items-start gap-3">
                  <div className="min-w-0 flex-1">
                    <PortalBackupNow
                      deviceId={d.id}
                      label={d.name}
                      action={backUpNowAction}
                      runningJobId={d.pendingBackupId}
                    />
                  </div>
                  <Link href={`/portal/devices/${d.id}`} className="text-sm text-sky-800 underline">
                    My backups
                  </Link>
                </div>
              </Card>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
