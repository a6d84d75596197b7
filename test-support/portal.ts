import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { chooseCategory } from './widget.js';

/**
 * Signs a resident in on examples/property-portal and reports through its embedded widget (zh-CN,
 * located by the browser); returns the number the widget shows.
 */
export async function reportInPortal(page: Page, report: { flat: string; category: string; description: string }): Promise<string> {
  await page.getByLabel('房号 Flat').fill(report.flat);
  await page.getByRole('button', { name: '登录 Sign in' }).click();
  await chooseCategory(page, report.category);
  await page.getByLabel('问题描述').fill(report.description);
  await expect
    .poll(() =>
      page
        .locator('civicloop-report')
        .getByText(/已定位/)
        .count(),
    )
    .toBe(1);
  await page.getByRole('button', { name: '提交' }).click();
  const outcome = page.locator('civicloop-report [part="outcome"]');
  await expect.poll(() => outcome.textContent()).toMatch(/已上报，编号/);
  return /([A-Z0-9]+-\d{8}-\d{4})/.exec((await outcome.textContent()) ?? '')![1]!;
}
