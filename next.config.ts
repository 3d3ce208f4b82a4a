import type { NextConfig } from 'next';
import { FIXED_SECURITY_HEADERS } from './lib/core/security-headers';

const nextConfig: NextConfig = {
  // Handsets and DS clients are served by the plain node:http handler in server.ts;
  // Next serves the console and the REST API only.
  poweredByHeader: false,
  // NEXT_DIST_DIR lets a second build (another checkout's tests, a parallel e2e run) live beside the main one.
  distDir: process.env.NEXT_DIST_DIR || '.next',
  serverExternalPackages: ['better-sqlite3', 'pino'],
  typedRoutes: false,
  // The fixed security headers on every answer. The Content-Security-Policy and HSTS differ per
  // request (a nonce, the transport) and come from proxy.ts; a CSP here would also overwrite
  // /media's own sandboxing policy.
  async headers() {
    return [{ source: '/:path*', headers: [...FIXED_SECURITY_HEADERS] }];
  },
};

export default nextConfig;
