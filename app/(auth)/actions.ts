'use server';
import { redirect } from 'next/navigation';
import { signOut } from '@/lib/server/session';

/**
 * The header's sign-out button. Outside authedAction on purpose: it takes no input and only
 * ends the caller's own session (a stale cookie is simply cleared); signOut audits it.
 */
export async function signOutAction(): Promise<void> {
  await signOut();
  redirect('/sign-in');
}
