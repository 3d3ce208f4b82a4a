/**
 * The firmware and app catalogs: packages admins publish, kept in the blob store and served
 * by Rewind at /packages/<id> for handsets to download (FUMO, SCOMO). A restore looks up
 * the package of exactly the version a snapshot recorded.
 */
import type { Db } from '@/db/client';
import {
  findPackageById,
  upsertAppPackage,
  upsertFirmwarePackage,
  type AppPackageRow,
  type FirmwarePackageRow,
} from '@/db/queries/catalog';
import { recordBlob } from '@/db/queries/snapshots';
import { insertAudit } from '@/db/queries/audit';
import { OPERATOR, type BlobStore } from '../backup/blob-store';
import { AppError } from '../core/errors';

const VERSION = /^[0-9A-Za-z][0-9A-Za-z._+-]{0,31}$/;
export const MAX_PACKAGE_BYTES = 256 * 1024 * 1024;

function check(bytes: Uint8Array, version: string): void {
  if (!VERSION.test(version))
    throw new AppError('invalid', `"${version}" is not a version (letters, digits, . _ + -; up to 32)`);
  if (bytes.length === 0) throw new AppError('invalid', 'the package is empty');
  if (bytes.length > MAX_PACKAGE_BYTES)
    throw new AppError('invalid', `the package is larger than ${MAX_PACKAGE_BYTES} bytes`);
}

export async function publishFirmware(
  ctx: { db: Db; blobs: BlobStore },
  p: { manufacturer: string; model: string; version: string; name?: string; bytes: Uint8Array },
): Promise<FirmwarePackageRow> {
  check(p.bytes, p.version);
  const { hash } = await ctx.blobs.put(p.bytes, OPERATOR);
  await recordBlob(ctx.db, hash, p.bytes.length);
  return upsertFirmwarePackage(ctx.db, {
    manufacturer: p.manufacturer,
    model: p.model,
    version: p.version,
    name: p.name ?? null,
    blobHash: hash,
    size: p.bytes.length,
  });
}

export async function publishApp(
  ctx: { db: Db; blobs: BlobStore },
  p: { appId: string; name: string; version: string; models?: string[]; systemOf?: string; bytes: Uint8Array },
): Promise<AppPackageRow> {
  check(p.bytes, p.version);
  if (!/^[A-Za-z0-9._-]{1,256}$/.test(p.appId)) throw new AppError('invalid', `"${p.appId}" is not an application id`);
  const { hash } = await ctx.blobs.put(p.bytes, OPERATOR);
  await recordBlob(ctx.db, hash, p.bytes.length);
  return upsertAppPackage(ctx.db, {
    appId: p.appId,
    name: p.name,
    version: p.version,
    models: p.models ? JSON.stringify(p.models) : null,
    systemOf: p.systemOf ?? null,
    blobHash: hash,
    size: p.bytes.length,
  });
}

/** publishFirmware for a person or token (the API, the console, the CLI): the upload is audited under `actor`. */
export async function publishFirmwareAs(
  ctx: { db: Db; blobs: BlobStore },
  p: { manufacturer: string; model: string; version: string; name?: string; bytes: Uint8Array },
  actor: string,
): Promise<FirmwarePackageRow> {
  const row = await publishFirmware(ctx, p);
  await insertAudit(ctx.db, {
    actor,
    action: 'catalog.firmware.published',
    details: { id: row.id, manufacturer: row.manufacturer, model: row.model, version: row.version, size: row.size },
  });
  return row;
}

/** publishApp for a person or token: the upload is audited under `actor`, with the models as they were asked for. */
export async function publishAppAs(
  ctx: { db: Db; blobs: BlobStore },
  p: { appId: string; name: string; version: string; models?: string[]; systemOf?: string; bytes: Uint8Array },
  actor: string,
): Promise<AppPackageRow> {
  const row = await publishApp(ctx, p);
  await insertAudit(ctx.db, {
    actor,
    action: 'catalog.app.published',
    details: {
      id: row.id,
      appId: row.appId,
      version: row.version,
      models: p.models ?? null,
      ...(p.systemOf ? { systemOf: p.systemOf } : {}),
      size: row.size,
    },
  });
  return row;
}

/** Whether an app package installs on this model (no list = any model). */
export function appFitsModel(pkg: AppPackageRow, manufacturer: string | null, model: string | null): boolean {
  if (!pkg.models) return true;
  return (JSON.parse(pkg.models) as string[]).includes(`${manufacturer ?? ''}/${model ?? ''}`);
}

/** Where a handset downloads a package from. */
export function packageUrl(baseUrl: string, id: string): string {
  return new URL(`/packages/${encodeURIComponent(id)}`, baseUrl).toString();
}

/** The bytes behind /packages/<id>, or undefined. */
export async function readPackage(ctx: { db: Db; blobs: BlobStore }, id: string): Promise<Uint8Array | undefined> {
  if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
  const row = await findPackageById(ctx.db, id);
  return row ? ctx.blobs.get(row.blobHash) : undefined;
}
