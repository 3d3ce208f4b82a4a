/**
 * Moving a deployment off one machine. `rewind migrate blobs --to s3://…` copies the blob store
 * to an object store and verifies every value; `rewind migrate database --to postgres://…`
 * copies the database into an empty PostgreSQL one and verifies every table; `rewind migrate
 * packs` moves the loose values of a store into pack files and verifies every one.
 */
import { getContext, createRawStore } from '../lib/core/context';
import { insertAudit } from '../db/queries/audit';
import { moveDeploymentStore } from '../db/queries/deployment';
import { storeOf } from '../lib/core/deployment';
import { closeDb, isPg, migrateDb, openPgDb } from '../db/client';
import { copyDatabase, TargetNotEmptyError } from '../db/copy';
import { allBlobRows } from '../db/queries/retention';
import { copyBlobs, copyPacks } from '../lib/backup/copy-blobs';
import { PackStore } from '../lib/backup/packs';
import { packIds } from '../db/queries/packs';
import { migrateToPacks } from '../lib/backup/migrate-packs';
import { SealedBlobStore } from '../lib/backup/sealed-store';
import { parseS3Url } from '../lib/backup/s3-store';
import { positionals } from './args';
import { formatBytes } from './format';
import { intOption, required, UsageError, type Command } from './usage';

export const migrateBlobs: Command = {
  summary:
    'copy every stored value to an S3-compatible bucket (S3_* settings), read each back and compare; then set BLOB_STORE',
  usage: '--to s3://bucket/prefix [--concurrency N]',
  options: { to: { type: 'string' }, concurrency: { type: 'string' } },
  async run(v, pos) {
    positionals(pos, []);
    const to = required(v, 'to');
    if (!parseS3Url(to)) throw new UsageError('--to must be s3://bucket or s3://bucket/prefix');
    const ctx = getContext();
    if (ctx.env.BLOB_STORE === to) throw new UsageError(`BLOB_STORE is already ${to}`);
    const source = ctx.blobs instanceof SealedBlobStore ? ctx.blobs.raw : undefined;
    if (!source) throw new Error('this deployment has no blob store to copy from');
    const target = createRawStore({ ...ctx.env, BLOB_STORE: to });
    let shown = 0;
    const r = await copyBlobs(source, target, {
      known: (await allBlobRows(ctx.db)).map((b) => b.hash),
      concurrency: intOption(v, 'concurrency', 8, 1, 64),
      onProgress: (done, listed) => {
        if (done === listed || done - shown >= 1000) {
          shown = done;
          process.stderr.write(`  ${done}/${listed} values\r`);
        }
      },
    });
    process.stderr.write('\n');
    const sourcePacks = ctx.blobs instanceof SealedBlobStore ? ctx.blobs.packs : undefined;
    const targetPacks = PackStore.beside(target);
    const p =
      sourcePacks && targetPacks
        ? await copyPacks(sourcePacks, targetPacks, [...(await packIds(ctx.db))].sort())
        : undefined;
    if (p) {
      r.failed.push(...p.failed);
      r.missing.push(...p.missing);
      console.log(
        `${p.listed} pack(s): ${p.copied} copied (${formatBytes(p.bytes)}), ${p.present} already there, ${p.failed.length} failed`,
      );
    }
    await insertAudit(ctx.db, {
      actor: 'cli',
      action: 'blobs.migrated',
      details: {
        to,
        listed: r.listed,
        copied: r.copied,
        present: r.present,
        failed: r.failed.length,
        missing: r.missing.length,
      },
    });
    console.log(
      `${r.listed} value(s) in the store: ${r.copied} copied (${formatBytes(r.bytes)}), ${r.present} already there, ${r.failed.length} failed`,
    );
    if (r.missing.length)
      console.log(
        `${r.missing.length} value(s) the database records are not in the store (rewind verify tells which backups they belong to)`,
      );
    if (r.failed.length) {
      console.log(
        `failed: ${r.failed.slice(0, 10).join(', ')}${r.failed.length > 10 ? ', …' : ''}: run the command again`,
      );
      return 1;
    }
    // The deployment's content is there now: processes and commands are held to that store.
    await moveDeploymentStore(ctx.db, storeOf({ BLOB_STORE: to, dataDir: ctx.env.dataDir }));
    console.log(`every value read back identical: start the servers with BLOB_STORE=${to}`);
  },
};

export const migratePacks: Command = {
  summary:
    'move every loose value of the blob store into its owners’ pack files, read each back through the index and check its SHA-256; safe to run again',
  usage: '',
  options: {},
  async run(_v, pos) {
    positionals(pos, []);
    const ctx = getContext();
    if (!(ctx.blobs instanceof SealedBlobStore) || !ctx.blobs.packs)
      throw new Error('this deployment has no blob store with packs');
    let shown = 0;
    const r = await migrateToPacks(ctx.blobs, {
      onProgress: (done, listed) => {
        if (done === listed || done - shown >= 1000) {
          shown = done;
          process.stderr.write(`  ${done}/${listed} values\r`);
        }
      },
    });
    if (r.listed) process.stderr.write('\n');
    await insertAudit(ctx.db, {
      actor: 'cli',
      action: 'blobs.packed',
      details: { listed: r.listed, packed: r.packed, present: r.present, moved: r.moved, failed: r.failed.length },
    });
    console.log(
      `${r.listed} loose value(s): ${r.moved} moved into packs (${formatBytes(r.bytes)}; ${r.packed} copies written, ${r.present} already packed), ${r.unreadable} no key opens (left for garbage collection), ${r.failed.length} failed`,
    );
    if (r.failed.length) {
      console.log(
        `failed: ${r.failed.slice(0, 10).join(', ')}${r.failed.length > 10 ? ', …' : ''}: run the command again`,
      );
      return 1;
    }
    console.log('every packed value read back with its SHA-256');
  },
};

export const migrateDatabase: Command = {
  summary:
    "copy this deployment's database into an empty PostgreSQL database, table by table, and verify counts and digests; then set DATABASE_URL",
  usage: '--to postgres://user:pass@host:5432/db',
  options: { to: { type: 'string' } },
  async run(v, pos) {
    positionals(pos, []);
    const to = required(v, 'to');
    if (!/^postgres(ql)?:\/\//.test(to)) throw new UsageError('--to must be a postgres:// URL');
    const ctx = getContext();
    if (isPg(ctx.db)) throw new UsageError('this deployment is already on PostgreSQL (DATABASE_URL is set)');
    const target = openPgDb(to, { max: 2 });
    try {
      await migrateDb(target);
      let last = '';
      const r = await copyDatabase(ctx.db, target, {
        onProgress: (table, done, total) => {
          const line = `  ${table}: ${done}/${total} rows`;
          if (line !== last) {
            last = line;
            process.stderr.write(`${line}\x1b[K\r`);
          }
          if (done === total) process.stderr.write('\n');
        },
      });
      const details = { tables: r.tables.length, rows: r.rows, mismatched: r.mismatched.map((m) => m.table) };
      await insertAudit(ctx.db, { actor: 'cli', action: 'database.migrated', details });
      console.log(`${r.rows} row(s) in ${r.tables.length} tables copied`);
      if (r.mismatched.length) {
        for (const m of r.mismatched)
          console.log(
            `  ${m.table}: ${m.source.rows} rows here, ${m.target.rows} there; digests ${m.source.digest === m.target.digest ? 'equal' : 'differ'}`,
          );
        console.log(
          'the copy did not verify: drop the target database and run the command again with the servers stopped',
        );
        return 1;
      }
      console.log('every table read back identical (counts and SHA-256 of every row)');
      console.log(
        `start the servers with DATABASE_URL set to the target${ctx.env.BLOB_STORE ? '' : ', and BLOB_STORE once `rewind migrate blobs` has copied the content'}`,
      );
    } catch (err) {
      if (err instanceof TargetNotEmptyError) throw new UsageError(err.message);
      throw err;
    } finally {
      await closeDb(target);
    }
  },
};
