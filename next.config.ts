import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Handsets and DS clients are served by the plain node:http handler in server.ts;
  // Next serves the console and the REST API only.
  poweredByHeader: false,
  serverExternalPackages: ['better-sqlite3', 'pino'],
  typedRoutes: false,
};

export default nextConfig;
