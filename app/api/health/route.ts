import { getContext } from '@/lib/core/context';
import { deploymentReadiness } from '@/lib/core/deployment';

export const dynamic = 'force-dynamic';

/**
 * Ready once the database answers and this process's blob store and master key are the
 * deployment's: a process configured otherwise answers 503 with the reason, so a balancer
 * sends it nothing (its backups would fail, or land where no other process looks).
 */
export async function GET() {
  const { db, env } = getContext();
  const r = await deploymentReadiness(db, env);
  return r.ready ? Response.json({ ok: true }) : Response.json({ ok: false, reason: r.reason }, { status: 503 });
}
