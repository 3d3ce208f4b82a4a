/**
 * The generated OpenAPI document passes `redocly lint` (the recommended rules, redocly.yaml) with
 * no error and no warning, names every operation, and describes what any operation may answer.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openapi } from '@/lib/api/openapi';

const ROOT = path.resolve(__dirname, '..');
const REDOCLY = path.join(ROOT, 'node_modules', '.bin', 'redocly');

type Operation = { operationId?: string; responses: Record<string, unknown>; parameters?: Array<{ name: string }> };
const operations = Object.entries(openapi.paths).flatMap(([p, methods]) =>
  Object.entries(methods).map(([m, op]) => ({ name: `${m.toUpperCase()} ${p}`, op: op as Operation })),
);

describe('the OpenAPI document', () => {
  it('passes redocly lint with 0 errors and 0 warnings', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-openapi-'));
    try {
      const file = path.join(dir, 'openapi.json');
      fs.writeFileSync(file, JSON.stringify(openapi, null, 2));
      const { stdout } = await promisify(execFile)(
        REDOCLY,
        ['lint', '--config', path.join(ROOT, 'redocly.yaml'), '--format', 'json', file],
        { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
      );
      const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: unknown[] };
      expect(report.problems).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('gives every operation its own operationId', () => {
    const ids = operations.map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operations.find((o) => o.name === 'GET /devices/{devId}/jobs')?.op.operationId).toBe(
      'getDevicesByDevIdJobs',
    );
  });

  it('lists 401, 429 and 500 on every operation, and 413 where a request can be too large', () => {
    for (const { name, op } of operations)
      expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(['401', '429', '500']));
    expect(Object.keys(operations.find((o) => o.name === 'POST /devices')!.op.responses)).toContain('413');
  });

  it("describes a job's progress with anyOf: a backup's progress is also an object, so oneOf would match twice", () => {
    const job = openapi.components.schemas.Job as { properties: { progress: Record<string, unknown> } };
    expect(job.properties.progress.anyOf).toBeDefined();
    expect(job.properties.progress.oneOf).toBeUndefined();
  });

  it('takes limit and cursor on every list and answers nextCursor and limit', () => {
    // Every GET answering a collection; GET /subscribers is a search ranked by how well each matches (limit only).
    const lists = [
      '/devices',
      '/devices/{devId}/snapshots',
      '/devices/{devId}/jobs',
      '/devices/{devId}/ds-snapshots',
      '/devices/{devId}/ds-accounts',
      '/models',
      '/subscribers/{id}/consents',
      '/catalog/firmware',
      '/catalog/apps',
    ];
    for (const p of lists) {
      const op = operations.find((o) => o.name === `GET ${p}`)!.op;
      expect(
        (op.parameters ?? []).map((x) => x.name),
        p,
      ).toEqual(expect.arrayContaining(['limit', 'cursor']));
      const ok = op.responses['200'] as { content: { 'application/json': { schema: { properties: object } } } };
      expect(Object.keys(ok.content['application/json'].schema.properties), p).toEqual(
        expect.arrayContaining(['nextCursor', 'limit']),
      );
    }
  });
});
