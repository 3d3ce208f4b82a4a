import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { SignInForm } from '@/components/sign-in-form';
import { getViewer, homeOf } from '@/lib/server/session';
import { signInAction } from './actions';

export const metadata: Metadata = { title: 'Sign in · Rewind' };
export const dynamic = 'force-dynamic';

export default async function SignInPage() {
  const viewer = await getViewer();
  if (viewer) redirect(homeOf(viewer.role));
  return (
    <main className="mx-auto max-w-sm p-8">
      <h1 className="text-2xl font-semibold">Sign in to Rewind</h1>
      <SignInForm action={signInAction} />
    </main>
  );
}
