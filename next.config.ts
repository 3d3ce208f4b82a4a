import type { NextConfig } from 'next';

/** For every page and API answer: no framing, no MIME sniffing, no referrer leaks. */
const SECURITY_HEADERS = [
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Referrer-Policy', value: 'same-origin' },
  {
    key: 'Content-Security-Policy',
    value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
  },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
];

const nextConfig: NextConfig = {
  // Handsets and DS clients are served by the plain node:http handler in server.ts;
  // Next serves the console and the REST API only.
  poweredByHeader: false,
  // NEXT_DIST_DIR lets a second build (another checkout's tests, a parallel e2e run) live beside the main one.
  distDir: process.env.NEXT_DIST_DIR || '.next',
  serverExternalPackages: ['better-sqlite3', 'pino'],
  typedRoutes: false,
  async headers() {
    return [{ source: '/:path*', headers: SECURITY_HEADERS }];
  },
};

export default nextConfig;
