import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  resolve: {
    alias: {
      '@': fileURLToPath(new URL('./', import.meta.url)),
      // Throws outside Next's server bundle; route handlers are tested by importing them.
      'server-only': fileURLToPath(new URL('./test/support/empty.ts', import.meta.url)),
    },
  },
  test: {
    include: [
      'app/**/*.test.ts',
      'lib/**/*.test.ts',
      'db/**/*.test.ts',
      'cli/**/*.test.ts',
      'scripts/**/*.test.ts',
      'sim/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    // Needs PostgreSQL as well as SQLite: run by the PostgreSQL pass (vitest.pg.config.mts).
    exclude: ['**/node_modules/**', 'db/schema-equivalence.test.ts', 'cli/migrate-database.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
