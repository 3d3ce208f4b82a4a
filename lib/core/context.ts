/**
 * Process-wide services shared by the node:http front (server.ts) and Next's route
 * handlers. Next bundles its handlers separately, so a module-level singleton would be
 * created twice; the context lives on globalThis instead.
 */
import { closeDb, openDatabase, type Db } from '@/db/client';
import { prepareDb } from '@/db/prepare';
import path from 'node:path';
import { RoutingPush, WebhookPush } from '../omadm/push';
import { FileBlobStore, type BlobStore, type RawBlobStore } from '../backup/blob-store';
import { parseS3Url, S3BlobStore, s3Client } from '../backup/s3-store';
import { Keyring, loadMasterKey } from '../backup/keyring';
import { PackStore } from '../backup/packs';
import { SealedBlobStore } from '../backup/sealed-store';
import { env, type Env } from './env';
import { establishDeployment } from './deployment';

export interface AppContext {
  db: Db;
  env: Env;
  /** Package #0 delivery: `inproc:` addresses to virtual handsets in this process, the rest to the operator's gateway. */
  push: RoutingPush;
  /** Backup content, addressed by SHA-256 and encrypted for its owner. */
  blobs: BlobStore;
  /**
   * This server process, as its heartbeat names it (lib/gateway/heartbeat.ts): the DM
   * sessions it handles carry it. Unset in commands and in-process tests (no heartbeat).
   */
  processId?: string;
}

const KEY = Symbol.for('rewind.context');
type Holder = { [KEY]?: AppContext };

export function createPush(e: Env): RoutingPush {
  return new RoutingPush(e.PUSH_WEBHOOK_URL ? { gateway: new WebhookPush({ url: e.PUSH_WEBHOOK_URL }) } : {});
}

/** `master`: the key establishDeployment checked; without it, the configured one (made if missing: tests). */
export function createBlobStore(e: Env, db: Db, master?: Uint8Array): SealedBlobStore {
  const raw = createRawStore(e);
  // New values go into packs; loose values a store already holds stay readable.
  return new SealedBlobStore(raw, db, new Keyring(db, master ?? loadMasterKey(e, e.dataDir)), PackStore.beside(raw));
}

/**
 * The context of a server process or a command: the database the environment names, made
 * ready (migrations, search index), and this configuration checked against the deployment's
 * identity (recorded when there is none) before anything else is written: a process with
 * another blob store or master key stops here with the reason (DeploymentMismatchError),
 * having made no key file and no folder.
 */
export async function openAppContext(e: Env): Promise<AppContext> {
  const db = await prepareDb(openDatabase(e));
  try {
    const master = await establishDeployment(db, e, () => createRawStore(e));
    return { db, env: e, push: createPush(e), blobs: createBlobStore(e, db, master) };
  } catch (err) {
    await closeDb(db);
    throw err;
  }
}

/** The store beneath encryption: the object store BLOB_STORE names, or files under DATA_DIR. */
export function createRawStore(e: Env): RawBlobStore {
  const where = e.BLOB_STORE ? parseS3Url(e.BLOB_STORE) : undefined;
  if (!where) return new FileBlobStore(path.join(e.dataDir, 'blobs'));
  return new S3BlobStore(
    s3Client({
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      accessKeyId: e.S3_ACCESS_KEY_ID,
      secretAccessKey: e.S3_SECRET_ACCESS_KEY,
      forcePathStyle: e.S3_FORCE_PATH_STYLE === '1' || e.S3_FORCE_PATH_STYLE === 'true',
    }),
    where,
  );
}

export function getContext(): AppContext {
  const g = globalThis as Holder;
  if (!g[KEY]) {
    const e = env();
    // PostgreSQL when DATABASE_URL names one, else SQLite under DATA_DIR. Opening is
    // synchronous either way; servers and commands run prepareDb once at start-up.
    const db = openDatabase(e);
    g[KEY] = { db, env: e, push: createPush(e), blobs: createBlobStore(e, db) };
  }
  return g[KEY];
}

/** Tests and the server install their own context (e.g. an in-memory database). */
export function setContext(ctx: AppContext | undefined): void {
  (globalThis as Holder)[KEY] = ctx;
}
