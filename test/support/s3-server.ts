/**
 * A local S3-compatible object store for tests (s3rver: files in a temporary directory,
 * on 127.0.0.1 and a free port), with one bucket, and the environment that points Rewind at it.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  /** What createRawStore reads (BLOB_STORE and the S3_* settings). */
  env: {
    BLOB_STORE: string;
    S3_ENDPOINT: string;
    S3_REGION: string;
    S3_ACCESS_KEY_ID: string;
    S3_SECRET_ACCESS_KEY: string;
    S3_FORCE_PATH_STYLE: '1';
  };
  close(): Promise<void>;
}

export async function startLocalS3(opts: { bucket?: string; prefix?: string } = {}): Promise<LocalS3> {
  const bucket = opts.bucket ?? 'rewind-test';
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    // s3rver accepts its well-known development key pair.
    env: {
      BLOB_STORE: `s3://${bucket}/${opts.prefix ?? 'blobs'}`,
      S3_ENDPOINT: endpoint,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: '1',
    },
    async close() {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
