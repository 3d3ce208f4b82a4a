/**
 * Blobs in an S3-compatible object store (AWS S3, MinIO, Ceph, …), for deployments where
 * several server processes share one store: `BLOB_STORE=s3://bucket/prefix`. Objects are
 * named `<prefix><first two hex digits>/<hash>`, so listing can be spread by prefix.
 *
 * An S3 PUT is atomic (a failed or interrupted upload leaves no object), which gives the same
 * guarantee as the file store's temporary file and rename: a name holds the whole value or
 * nothing. Encryption (SealedBlobStore) happens before bytes leave the process.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { BlobStoreError, isHash, sha256Hex, type RawBlobStore } from './blob-store';

export interface S3Location {
  bucket: string;
  /** '' or ending in '/'. */
  prefix: string;
}

/** `s3://bucket/some/prefix` → bucket and prefix; undefined for anything else. */
export function parseS3Url(url: string): S3Location | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) return undefined;
  const rest = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  return { bucket: m[1]!, prefix: rest ? `${rest}/` : '' };
}

export interface S3Settings {
  endpoint?: string | undefined;
  region?: string | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  /** Path-style URLs (http://host/bucket/key): what MinIO and most local servers need. */
  forcePathStyle?: boolean | undefined;
}

export function s3Client(s: S3Settings): S3Client {
  return new S3Client({
    region: s.region ?? 'us-east-1',
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    ...(s.forcePathStyle ? { forcePathStyle: true } : {}),
    ...(s.accessKeyId && s.secretAccessKey
      ? { credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } }
      : {}),
    maxAttempts: 3,
  });
}

export function s3NotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404;
}

export function s3IoError(op: string, err: unknown): BlobStoreError {
  const status = err instanceof S3ServiceException ? ` (HTTP ${err.$metadata.httpStatusCode ?? '?'} ${err.name})` : '';
  // Quota errors are the object store's "disk full".
  const code =
    err instanceof S3ServiceException && /QuotaExceeded|EntityTooLarge|InsufficientStorage/i.test(err.name)
      ? 'no-space'
      : 'io';
  return new BlobStoreError(code, `object store ${op} failed${status}: ${(err as Error).message}`, { cause: err });
}

export class S3BlobStore implements RawBlobStore {
  constructor(
    readonly client: S3Client,
    readonly where: S3Location,
  ) {}

  private key(hash: string): string {
    if (!isHash(hash)) throw new TypeError(`not a SHA-256 hex hash: ${hash.slice(0, 80)}`);
    return `${this.where.prefix}${hash.slice(0, 2)}/${hash}`;
  }

  async put(bytes: Uint8Array, _owner?: string): Promise<{ hash: string; created: boolean }> {
    const hash = sha256Hex(bytes);
    return { hash, created: await this.write(hash, bytes) };
  }

  async write(hash: string, bytes: Uint8Array, opts: { replace?: boolean } = {}): Promise<boolean> {
    const Key = this.key(hash);
    if (!opts.replace && (await this.has(hash))) return false;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.where.bucket,
          Key,
          Body: bytes,
          ContentLength: bytes.length,
          ContentType: 'application/octet-stream',
        }),
      );
    } catch (err) {
      throw s3IoError('write', err);
    }
    return true;
  }

  async get(hash: string): Promise<Uint8Array | undefined> {
    const Key = this.key(hash);
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key }));
      return r.Body ? await r.Body.transformToByteArray() : new Uint8Array(0);
    } catch (err) {
      if (s3NotFound(err)) return undefined;
      throw s3IoError('read', err);
    }
  }

  async has(hash: string): Promise<boolean> {
    const Key = this.key(hash);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.where.bucket, Key }));
      return true;
    } catch (err) {
      if (s3NotFound(err)) return false;
      throw s3IoError('check', err);
    }
  }

  async delete(hash: string): Promise<void> {
    const Key = this.key(hash);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.where.bucket, Key }));
    } catch (err) {
      if (!s3NotFound(err)) throw s3IoError('delete', err);
    }
  }

  async *list(): AsyncIterable<string> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.where.bucket,
            Prefix: this.where.prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (err) {
        throw s3IoError('list', err);
      }
      for (const o of page.Contents ?? []) {
        const name = o.Key?.slice(o.Key.lastIndexOf('/') + 1);
        if (name && isHash(name)) yield name;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}
