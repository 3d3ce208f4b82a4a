import { getContext } from '@/lib/app-context';
import { sql } from 'drizzle-orm';

export const dynamic = 'force-dynamic';

export function GET() {
  const { db } = getContext();
  db.run(sql`select 1`);
  return Response.json({ ok: true });
}
