/** `rewind migrate blobs --to s3://…`: copies the blob store to an object store and verifies every value. */
import { getContext, createRawStore } from '../lib/app-context';
import { insertAudit } from '../db/queries/audit';
import { allBlobRows } from '../db/queries/retention';
import { copyBlobs } from '../lib/backup/copy-blobs';
import { SealedBlobStore } from '../lib/backup/sealed-store';
import { parseS3Url } from '../lib/backup/s3-store';
import { positionals } from './args';
import { formatBytes } from './format';
import { intOption, required, UsageError, type Command } from './usage';

export const migrateBlobs: Command = {
  summary: 'copy every stored value to an S3-compatible bucket (S3_* settings), read each back and compare; then set BLOB_STORE',
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
        if (done === listed || done - shown >= 1000) { shown = done; process.stderr.write(`  ${done}/${listed} values\r`); }
      },
    });
    process.stderr.write('\n');
    await insertAudit(ctx.db, { actor: 'cli', action: 'blobs.migrated', details: { to, listed: r.listed, copied: r.copied, present: r.present, failed: r.failed.length, missing: r.missing.length } });
    console.log(`${r.listed} value(s) in the store: ${r.copied} copied (${formatBytes(r.bytes)}), ${r.present} already there, ${r.failed.length} failed`);
    if (r.missing.length) console.log(`${r.missing.length} value(s) the database records are not in the store (rewind verify tells which backups they belong to)`);
    if (r.failed.length) {
      console.log(`failed: ${r.failed.slice(0, 10).join(', ')}${r.failed.length > 10 ? ', …' : ''}: run the command again`);
      return 1;
    }
    console.log(`every value read back identical: start the servers with BLOB_STORE=${to}`);
  },
};
