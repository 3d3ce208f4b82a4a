import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { Providers } from '@/components/providers';
import './globals.css';

export const metadata: Metadata = {
  title: 'Rewind',
  description: 'Backup and restore for handsets managed over OMA Device Management',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

// Every page is rendered per request, so each carries the nonce of its own Content-Security-Policy
// (proxy.ts): a page prerendered at build time would have scripts no nonce lets run.
export const dynamic = 'force-dynamic';

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen font-sans">
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-white focus:px-3 focus:py-1"
        >
          Skip to content
        </a>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
