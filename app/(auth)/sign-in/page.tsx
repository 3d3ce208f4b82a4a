import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { SignInForm } from '@/components/sign-in-form';
import { getViewer, homeOf } from '@/lib/server/session';
import { getContext } from '@/lib/core/context';
import { oidcSettings, ssoSignInView } from '@/lib/auth/oidc';
import { signInAction } from './actions';

export const metadata: Metadata = { title: 'Sign in · Rewind' };
export const dynamic = 'force-dynamic';

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ sso?: string | string[] }> }) {
  const viewer = await getViewer();
  if (viewer) redirect(homeOf(viewer.role));
  const { sso: reason } = await searchParams;
  const sso = ssoSignInView(oidcSettings(getContext().env), typeof reason === 'string' ? reason : undefined);
  return (
    <main className="mx-auto max-w-sm p-8">
      <h1 className="text-2xl font-semibold">Sign in to Rewind</h1>
      {sso ? (
        <div className="mt-6 space-y-3">
          {sso.error ? (
            <p role="alert" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
              {sso.error}
            </p>
          ) : null}
          {/* A plain link: the route sets the PKCE cookie and sends the browser to the provider. */}
          <a
            href="/auth/oidc/start"
            className="block w-full rounded bg-slate-900 px-3 py-2 text-center text-sm font-medium text-white hover:bg-slate-700"
          >
            Sign in with {sso.name}
          </a>
          <p className="text-center text-xs text-slate-500">or with your email and password</p>
        </div>
      ) : null}
      <SignInForm action={signInAction} />
    </main>
  );
}
