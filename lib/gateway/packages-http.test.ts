import { afterAll, beforeAll, expect, it } from 'vitest';
import { publishApp } from '../catalog/catalog';
import { startTestServer, type TestServer } from '../../test/support/test-server';

let srv: TestServer;
let base: string;

beforeAll(async () => {
  srv = await startTestServer();
  base = `http://127.0.0.1:${srv.server.port}`;
});
afterAll(async () => srv?.close());

it('serves a published package with its exact length, and answers anything else with a clear 4xx', async () => {
  const bytes = new TextEncoder().encode('a package body');
  const pkg = await publishApp(srv.ctx, { appId: 'com.example.app', name: 'Example', version: '1.0.0', bytes });
  const ok = await fetch(`${base}/packages/${pkg.id}`);
  expect(ok.status).toBe(200);
  expect(ok.headers.get('content-length')).toBe(String(bytes.length));
  expect(new Uint8Array(await ok.arrayBuffer())).toEqual(bytes);
  const head = await fetch(`${base}/packages/${pkg.id}`, { method: 'HEAD' });
  expect(head.status).toBe(200);
  for (const path of [
    '/packages/00000000-0000-0000-0000-000000000000',
    '/packages/..%2F..%2Fetc%2Fpasswd',
    '/packages/',
  ]) {
    expect((await fetch(`${base}${path}`)).status, path).toBe(404);
  }
  // A path that does not percent-decode is refused by the front for every route alike.
  expect((await fetch(`${base}/packages/%zz`)).status).toBe(400);
  expect((await fetch(`${base}/packages/${pkg.id}`, { method: 'POST' })).status).toBe(405);
});
