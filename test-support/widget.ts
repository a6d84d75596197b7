import type { Page } from 'playwright-core';

/**
 * Chooses a type of problem in the report widget as a resident would: from "recently used" if it
 * is there, else by opening its group's tile, then the type's own tile.
 */
export async function chooseCategory(page: Page, code: string): Promise<void> {
  const widget = page.locator('civicloop-report');
  const radio = widget.locator(`input[name="category"][value="${code}"]`);
  await radio.waitFor({ state: 'attached' });
  if (!(await radio.evaluate((input) => (input.closest('details') as HTMLDetailsElement).open))) {
    await widget.locator(`details[data-group="${code.split('.')[0]}"] > summary`).click();
  }
  await widget.locator(`label[data-category="${code}"]`).click();
}
