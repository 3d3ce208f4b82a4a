import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { getViewer } from '@/lib/server/session';
import { signOutAction } from './(auth)/actions';
import './globals.css';

export const metadata: Metadata = {
  title: 'Rewind',
  description: 'Backup and restore for handsets managed over OMA Device Management',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const viewer = await getViewer();
  return (
    <html lang="en">
      <body className="min-h-screen font-sans">
        {viewer ? (
          <header className="flex items-center justify-end gap-4 border-b border-slate-200 bg-white px-8 py-2 text-sm">
            <span>Signed in as <strong>{viewer.email}</strong> ({viewer.role})</span>
            <form action={signOutAction}>
              <button type="submit" className="rounded border border-slate-300 px-3 py-1 hover:bg-slate-50">Sign out</button>
            </form>
          </header>
        ) : null}
        {children}
      </body>
    </html>
  );
}
