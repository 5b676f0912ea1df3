// Zipkin's own UI in a real browser: Debian's Chromium driven by playwright-core. Used by the UI test and by
// `make screenshot`, so the picture in the README is what the test checked.
import { existsSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Opens Zipkin's UI, searches the trace id as a user does (the "Trace ID" box, Enter), and hands the trace page to
 * `use` once every name in `waitFor` is on it.
 */
export async function withZipkinTracePage<T>(
  zipkinUrl: string,
  traceId: string,
  waitFor: Iterable<string>,
  use: (page: Page) => Promise<T>,
): Promise<T> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // No background traffic: on a closed network Chromium's own update and sync calls fail by the dozen.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${zipkinUrl}/zipkin/`);
    const search = page.getByPlaceholder('Trace ID');
    await search.fill(traceId);
    await search.press('Enter');
    await page.waitForURL(`**/zipkin/traces/${traceId}`);
    for (const name of waitFor)
      await page.getByText(name, { exact: false }).first().waitFor({ timeout: 20_000 });
    return await use(page);
  } finally {
    await browser.close();
  }
}
