import { defineConfig } from 'vitest/config';
import base from './vitest.config.mjs';

/**
 * The PostgreSQL pass: the data layer, the engines and the multi-process test again, each test
 * on a fresh PostgreSQL database (test/db.ts) of a throwaway cluster on 127.0.0.1 that the
 * global set-up starts (scripts/test-postgres.sh); and the schema equivalence test, which
 * needs both databases. `npm test` runs it after the SQLite pass.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: [
      'db/**/*.test.ts',
      'lib/backup/**/*.test.ts',
      'lib/restore/**/*.test.ts',
      'lib/ds/ds-jobs.test.ts',
      'lib/gateway/dm-endpoint.test.ts',
      'lib/gateway/multi-process.test.ts',
      'lib/erasure.test.ts',
      'test/api.test.ts',
      'cli/migrate-database.test.ts',
    ],
    exclude: [],
    globalSetup: ['test/pg-global-setup.ts'],
    env: { REWIND_TEST_DB: 'pg' },
  },
});
