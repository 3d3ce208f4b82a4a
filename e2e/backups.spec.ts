import { expect, test } from '@playwright/test';
import { keepScreenshot, signInAs, simHandsets } from './support';

test('virtual handsets back up through real DM sessions, and the console shows their backups', async ({
  page,
}, testInfo) => {
  // Three handsets of this spec's own, registered and backed up by the real CLI over /dm.
  const devIds = simHandsets(testInfo, { devices: 3, seed: 4242, backup: true });
  await signInAs(page, 'agent');
  await page.goto('/fleet');
  await expect(page.getByRole('heading', { name: 'Recent backups' })).toBeVisible();
  for (const devId of devIds) {
    const row = page.getByRole('row').filter({ hasText: devId });
    await expect(row).toContainText('on-demand');
    await expect(row).toContainText('complete');
  }
  await keepScreenshot(page, testInfo, 'recent-backups');
});
