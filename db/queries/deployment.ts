/** The deployment's identity (db/schema.ts `deployment`, one row) and what checks it against an older deployment. */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { deployment } from '../schema';
import { row } from '../sql';

export type DeploymentRow = typeof deployment.$inferSelect;
export type DeploymentIdentity = Pick<
  DeploymentRow,
  'blobStore' | 'blobBucket' | 'blobPrefix' | 'blobDir' | 'keyFingerprint'
>;

const ONE = 1;

export async function getDeployment(db: Db): Promise<DeploymentRow | undefined> {
  return (await db.select().from(deployment).where(eq(deployment.id, ONE)).limit(1))[0];
}

/**
 * Records the identity unless one is there: of two processes starting together on a new
 * deployment, the first one's stands, and the row returned is the one stored, to compare.
 */
export async function recordDeployment(db: Db, identity: DeploymentIdentity, now = Date.now()): Promise<DeploymentRow> {
  await db
    .insert(deployment)
    .values({ id: ONE, ...identity, createdAt: now, updatedAt: now })
    .onConflictDoNothing();
  return (await getDeployment(db))!;
}

/** The content moved to another store (`rewind migrate blobs`): the identity says where it is now. */
export async function moveDeploymentStore(
  db: Db,
  store: Pick<DeploymentIdentity, 'blobStore' | 'blobBucket' | 'blobPrefix' | 'blobDir'>,
  now = Date.now(),
): Promise<void> {
  await db
    .update(deployment)
    .set({ ...store, updatedAt: now })
    .where(eq(deployment.id, ONE));
}

/** One data key as stored, to try the master key on (a deployment from before the identity was kept). */
export async function anyDataKey(db: Db): Promise<{ owner: string; wrapped: string } | undefined> {
  return row(db, sql`select owner, wrapped from content_keys order by owner limit 1`);
}

/** The manifest of the newest complete backup: it must be in the blob store this deployment uses. */
export async function newestManifest(db: Db): Promise<string | undefined> {
  return (
    await row<{ hash: string }>(
      db,
      sql`select root_hash as "hash" from snapshots where status = 'complete' and root_hash is not null
      order by completed_at desc limit 1`,
    )
  )?.hash;
}
