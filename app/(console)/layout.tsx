import type { ReactNode } from 'react';
import { AppShell } from '@/components/app-shell';
import { requireViewer } from '@/lib/server/action';
import { getContext } from '@/lib/core/context';
import { unresolvedAlertCount } from '@/lib/alerts/alerts';
import { signOutAction } from '../(auth)/actions';

export const dynamic = 'force-dynamic';

/** The console: agents and admins only (subscribers are sent to the portal, strangers to sign-in). Each page checks again. */
export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const viewer = await requireViewer(['agent', 'admin']);
  const nav = [
    { href: '/', label: 'Search' },
    { href: '/fleet', label: 'Fleet' },
    { href: '/devices', label: 'Devices' },
    { href: '/fleet/firmware', label: 'Firmware' },
    { href: '/audit', label: 'Audit log' },
    ...(viewer.role === 'admin'
      ? [
          { href: '/admin/policies', label: 'Policies' },
          { href: '/bulk', label: 'Bulk' },
          { href: '/admin/groups', label: 'Groups' },
          { href: '/admin/models', label: 'Models' },
          { href: '/admin/catalog', label: 'Catalog' },
          { href: '/admin/ds', label: 'DS accounts' },
          { href: '/admin/users', label: 'Users' },
          { href: '/admin/tokens', label: 'API tokens' },
          { href: '/admin/webhooks', label: 'Webhooks' },
          { href: '/admin/api', label: 'API reference' },
        ]
      : []),
  ];
  return (
    <AppShell
      nav={nav}
      email={viewer.email}
      role={viewer.role}
      alerts={await unresolvedAlertCount(getContext().db)}
      signOut={signOutAction}
    >
      {children}
    </AppShell>
  );
}
