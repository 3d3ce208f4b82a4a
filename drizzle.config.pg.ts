import { defineConfig } from 'drizzle-kit';

// The PostgreSQL migrations, generated from the schema derived from db/schema.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema-pg.ts',
  out: './db/migrations-pg',
});
