import type { Metadata } from 'next';
import { getContext } from '@/lib/app-context';
import { requireViewer } from '@/lib/server/action';
import { devicesOfViewer } from '@/db/queries/users';

export const metadata: Metadata = { title: 'My devices · Rewind' };
export const dynamic = 'force-dynamic';

/** The subscriber portal (a placeholder for now): the signed-in subscriber's own handsets. */
export default async function PortalPage() {
  const viewer = await requireViewer(['subscriber']);
  const mine = devicesOfViewer(getContext().db, viewer);
  return (
    <div>
      <h1 className="text-2xl font-semibold">My devices</h1>
      {mine.length === 0 ? (
        <p className="mt-4 text-slate-600">No handset is registered to you yet.</p>
      ) : (
        <ul className="mt-4 divide-y divide-slate-200 rounded border border-slate-200 bg-white">
          {mine.map((d) => (
            <li key={d.id} className="flex justify-between px-4 py-2 text-sm">
              <span>{d.manufacturer} {d.model}</span>
              <span className="font-mono">{d.devId}</span>
              <span>{d.lastSeenAt ? `last seen ${new Date(d.lastSeenAt).toLocaleString('en-GB')}` : 'not seen yet'}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
