'use server';
import { redirect } from 'next/navigation';
import { insertAudit } from '@/db/queries/audit';
import { getContext } from '@/lib/core/context';
import { getViewer, signOut } from '@/lib/server/session';

/**
 * The header's sign-out button. Outside authedAction on purpose: it takes no input and only
 * ends the caller's own session (a stale cookie is simply cleared). Audited beside sign-ins.
 */
export async function signOutAction(): Promise<void> {
  const viewer = await getViewer();
  await signOut();
  if (viewer) await insertAudit(getContext().db, { actor: viewer.email, action: 'sign-out' });
  redirect('/sign-in');
}
