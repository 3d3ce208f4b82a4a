/**
 * A test server with a small fleet of virtual handsets already provisioned on it (their
 * models' backup profiles described, optionally the firmware and app catalog published),
 * each listening for Package #0 in process. For integration tests and benchmarks.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openFleet } from '../../sim/fleet';
import type { VirtualHandset } from '../../sim/handset';
import { describeVirtualModels, provisionFleet, publishVirtualCatalog } from '../../sim/provision';
import { startTestServer, type TestServer } from './test-server';
import type { Env } from '../../lib/core/env';

export interface TestFleet extends TestServer {
  handsets: VirtualHandset[];
  stateDir: string;
}

export async function startTestFleet(opts: {
  devices: number;
  seed: number;
  mediaScale?: number;
  encoding?: 'xml' | 'wbxml' | 'mixed';
  models?: string[];
  /** Publish the virtual catalog with payloads of this many KB. */
  catalogKb?: number;
  /** Settings for the server (e.g. BLOB_STORE for an object store). */
  env?: Partial<Env>;
}): Promise<TestFleet> {
  const srv = await startTestServer(opts.env ? { env: opts.env } : {});
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-fleet-'));
  const handsets = openFleet({
    server: srv.dmUrl,
    devices: opts.devices,
    stateDir,
    encoding: opts.encoding ?? 'mixed',
    auth: 'md5',
    mediaScale: opts.mediaScale ?? 0.02,
    seed: opts.seed,
    ...(opts.models ? { models: opts.models } : {}),
  });
  await describeVirtualModels(srv.ctx.db);
  if (opts.catalogKb) await publishVirtualCatalog(srv.ctx, { kb: opts.catalogKb });
  await provisionFleet(
    srv.ctx.db,
    handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })),
    { inprocPush: true },
  );
  for (const h of handsets) h.listen(srv.ctx.push.inproc);
  return {
    ...srv,
    handsets,
    stateDir,
    async close() {
      await srv.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
