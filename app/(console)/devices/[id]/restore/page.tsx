import type { Metadata } from 'next';
import Link from 'next/link';
import { getContext } from '@/lib/core/context';
import { requireViewer } from '@/lib/server/action';
import { deviceFor, forPage } from '@/lib/server/access';
import { wizardStart } from '@/lib/restore/wizard';
import { RestoreWizard } from '@/components/restore-wizard';
import { ErrorNote, PageHeader } from '@/components/ui';
import { confirmRestoreAction, previewRestoreAction, restoreChoicesAction } from './actions';

export const metadata: Metadata = { title: 'Restore · Rewind' };
export const dynamic = 'force-dynamic';

/** The agents' restore wizard for one handset; `?snapshot=` preselects a backup (the device page links here). */
export default async function RestorePage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ snapshot?: string | string[] }>;
}) {
  const viewer = await requireViewer(['agent', 'admin']);
  const { id } = await params;
  const { snapshot } = await searchParams;
  const ctx = getContext();
  const device = await forPage(() => deviceFor(ctx.db, viewer, id));
  const start = await wizardStart(ctx, device, typeof snapshot === 'string' ? snapshot : undefined);
  return (
    <div>
      <PageHeader
        title="Restore"
        subtitle={
          <>
            {[device.manufacturer, device.model].filter(Boolean).join(' ')} ·{' '}
            <Link href={`/devices/${device.id}`} className="font-mono text-sky-800 hover:underline">
              {device.devId}
            </Link>
          </>
        }
        back={{ href: `/devices/${device.id}`, label: 'Device' }}
      />
      {start.askedForMissing ? (
        <div className="mb-4">
          <ErrorNote>
            That backup is not a complete backup of this handset; the newest one is selected instead.
          </ErrorNote>
        </div>
      ) : null}
      <RestoreWizard
        {...start}
        loadChoices={restoreChoicesAction}
        preview={previewRestoreAction}
        confirm={confirmRestoreAction}
        jobHref="/jobs/"
        audience="staff"
      />
    </div>
  );
}
