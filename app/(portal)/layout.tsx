import type { ReactNode } from 'react';
import { AppShell } from '@/components/app-shell';
import { requireViewer } from '@/lib/server/action';
import { signOutAction } from '../(auth)/actions';

export const dynamic = 'force-dynamic';

/** The subscribers' portal: subscriber accounts only. Each page checks again. */
export default async function PortalLayout({ children }: { children: ReactNode }) {
  const viewer = await requireViewer(['subscriber']);
  const nav = [
    { href: '/portal', label: 'My devices' },
    { href: '/portal/consents', label: 'My consent history' },
  ];
  return (
    <AppShell nav={nav} email={viewer.email} role="subscriber" signOut={signOutAction}>
      {children}
    </AppShell>
  );
}
