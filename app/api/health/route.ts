import { getContext } from '@/lib/core/context';
import { sql } from 'drizzle-orm';
import { exec } from '@/db/sql';

export const dynamic = 'force-dynamic';

export async function GET() {
  const { db } = getContext();
  await exec(db, sql`select 1`);
  return Response.json({ ok: true });
}
