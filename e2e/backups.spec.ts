import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, test } from '@playwright/test';

test('virtual handsets back up through real DM sessions, and the console shows their backups', async ({ page }, testInfo) => {
  const dataDir = process.env.E2E_DATA_DIR!;
  const base = testInfo.project.use.baseURL!;
  // Three handsets of this spec's own, registered and backed up by the real CLI over /dm.
  const out = execFileSync(path.resolve('node_modules/.bin/tsx'), [
    'cli/rewind.ts', 'sim', '--server', `${base}/dm`, '--devices', '3', '--once', '--backup', '--seed', '4242',
    '--media-scale', '0.02', '--state-dir', path.join(dataDir, 'e2e-backups-handsets'),
  ], { env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 90_000 });
  expect(out).toMatch(/sessions\s+3 \(3 ok, 0 failed\)/);
  const devIds = [...out.matchAll(/^\s+(IMEI:\d+)/gm)].map((m) => m[1]!);
  expect(devIds).toHaveLength(3);

  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Recent backups' })).toBeVisible();
  for (const devId of devIds) {
    const row = page.getByRole('row').filter({ hasText: devId });
    await expect(row).toContainText('on-demand');
    await expect(row).toContainText('complete');
  }
  await page.screenshot({ path: testInfo.outputPath('recent-backups.png'), fullPage: true });
});
