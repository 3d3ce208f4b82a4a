import { defineConfig } from 'vitest/config';
import base from './vitest.config.mjs';

/**
 * The PostgreSQL pass: the data layer, the engines, the console's data and the multi-process
 * test again, each test on a fresh PostgreSQL database (test/support/db.ts) of a throwaway cluster on
 * 127.0.0.1 that the global set-up starts (scripts/test-postgres.sh); and the schema
 * equivalence test, which needs both databases. `npm test` runs it after the SQLite pass.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'db/**/*.test.ts',
      'lib/backup/**/*.test.ts',
      'lib/restore/**/*.test.ts',
      'lib/ds/**/*.test.ts',
      'lib/gateway/dm-endpoint.test.ts',
      'lib/gateway/multi-process.test.ts',
      'lib/gateway/reap.test.ts',
      'lib/gateway/job-failures.test.ts',
      'lib/gateway/auth-limits.test.ts',
      'lib/gateway/dm-auth-schemes.test.ts',
      'lib/jobs/**/*.test.ts',
      'lib/bulk/**/*.test.ts',
      'lib/auth/**/*.test.ts',
      'lib/alerts/**/*.test.ts',
      'lib/groups/**/*.test.ts',
      // The console's data: pages, actions, the API and the portal, as the server components see it.
      'lib/core/**/*.test.ts',
      'lib/devices/**/*.test.ts',
      'lib/subscribers/**/*.test.ts',
      'lib/search/**/*.test.ts',
      'sim/demo*.test.ts',
      'app/**/*.test.ts',
      'test/**/*.test.ts',
      'cli/migrate-database.test.ts',
    ],
    // The real DS client run stays on SQLite: it shows the protocol, not the database.
    exclude: ['lib/ds/syncevolution.test.ts'],
    globalSetup: ['test/support/pg-global-setup.ts'],
    env: { REWIND_TEST_DB: 'pg' },
  },
});
