import type { Metadata } from 'next';
import { getContext } from '@/lib/core/context';
import { requireViewer } from '@/lib/server/action';
import { deviceFor, forPage } from '@/lib/server/access';
import { handsetName } from '@/lib/subscribers/erasure';
import { wizardStart } from '@/lib/restore/wizard';
import { RestoreWizard } from '@/components/restore-wizard';
import { ErrorNote, PageHeader } from '@/components/ui';
import { portalConfirmRestoreAction, portalPreviewRestoreAction, portalRestoreChoicesAction } from '../../../actions';

export const metadata: Metadata = { title: 'Restore · Rewind' };
export const dynamic = 'force-dynamic';

/** The subscriber's restore: the agents' wizard, to this handset or another of theirs. */
export default async function PortalRestorePage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ snapshot?: string | string[] }>;
}) {
  const viewer = await requireViewer(['subscriber']);
  const { id } = await params;
  const { snapshot } = await searchParams;
  const ctx = getContext();
  const device = await forPage(() => deviceFor(ctx.db, viewer, id));
  const start = await wizardStart(ctx, device, typeof snapshot === 'string' ? snapshot : undefined);
  return (
    <div>
      <PageHeader
        title={`Restore ${handsetName(device)}`}
        subtitle="Pick a backup and what to bring back. You see exactly what will happen before anything starts."
        back={{ href: `/portal/devices/${device.id}`, label: 'My backups' }}
      />
      {start.askedForMissing ? (
        <div className="mb-4">
          <ErrorNote>That backup cannot be restored; the newest one is selected instead.</ErrorNote>
        </div>
      ) : null}
      <RestoreWizard
        {...start}
        loadChoices={portalRestoreChoicesAction}
        preview={portalPreviewRestoreAction}
        confirm={portalConfirmRestoreAction}
        jobHref="/portal/jobs/"
        audience="subscriber"
      />
    </div>
  );
}
