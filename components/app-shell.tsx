/**
 * The frame around every signed-in page: the product name, the sections this viewer may open,
 * who is signed in, and sign-out. The navigation collapses into a scrolling row on a narrow screen.
 */
import Link from 'next/link';
import type { ReactNode } from 'react';
import { NavLinks, type NavItem } from './nav-links';

export function AppShell({
  nav,
  email,
  role,
  alerts,
  signOut,
  children,
}: {
  nav: NavItem[];
  email: string;
  role: string;
  /** Unresolved alerts: the bell's count (staff only). */
  alerts?: number;
  signOut: (form: FormData) => void | Promise<void>;
  children: ReactNode;
}) {
  return (
    <>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-2">
          <Link href={nav[0]?.href ?? '/'} className="text-lg font-semibold tracking-tight">
            Rewind
          </Link>
          <NavLinks items={nav} />
          <div className="ml-auto flex items-center gap-3 text-sm">
            {alerts === undefined ? null : (
              <Link
                href="/alerts"
                className="relative rounded border border-slate-300 px-2 py-1 hover:bg-slate-50"
                aria-label={`Alerts: ${alerts} unresolved`}
              >
                <span aria-hidden="true">🔔</span>
                {alerts > 0 ? (
                  <span
                    aria-hidden="true"
                    className="ml-1 rounded-full bg-red-700 px-1.5 text-xs font-semibold text-white"
                    data-testid="alert-count"
                  >
                    {alerts}
                  </span>
                ) : null}
              </Link>
            )}
            <span className="hidden text-slate-600 sm:inline">
              {email} · {role}
            </span>
            <form action={signOut}>
              <button type="submit" className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-50">
                Sign out
              </button>
            </form>
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-6xl px-4 py-6">
        {children}
      </main>
    </>
  );
}
