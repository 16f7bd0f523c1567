/**
 * A real Chromium for the web page tests (issue 17): Debian's `chromium`,
 * driven by puppeteer-core over the DevTools protocol, with no browser
 * download. `browserSkip` says why there is none (the tests then skip with
 * that reason; .ci/run installs it). Each page's screenshot goes under the
 * test's temp dir as an artifact (`shot`).
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser's path, from QPY_TEST_CHROMIUM or the usual places; null if none. */
export function chromiumPath(): string | null {
  const given = process.env['QPY_TEST_CHROMIUM'];
  if (given) return existsSync(given) ? given : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/** Why the browser tests cannot run here, or false. */
export const browserSkip: string | false = chromiumPath() === null ? 'no Chromium here (apt-get install chromium)' : false;

/** A headless Chromium, closed with `await using`. */
export async function openBrowser(): Promise<Browser & AsyncDisposable> {
  const executablePath = chromiumPath();
  if (executablePath === null) throw new Error('no Chromium');
  const browser = await puppeteer.launch({
    executablePath,
    headless: true,
    // Root in CI has no user namespace sandbox; the pages are our own, on loopback.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() });
}

/** Save what `page` shows as `dir/name.png`; returns the path. */
export async function shot(page: Page, dir: string, name: string): Promise<string> {
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Save what `page` shows as `dir/name.png` (shot), and copy it to
 * $QPY_TEST_ARTIFACTS when set (CI keeps it).
 */
export async function keepShot(page: Page, dir: string, name: string): Promise<void> {
  const path = await shot(page, dir, name);
  const out = process.env['QPY_TEST_ARTIFACTS'];
  if (out) {
    mkdirSync(out, { recursive: true });
    copyFileSync(path, join(out, basename(path)));
  }
}

/**
 * Click `selector`. A page whose own script redraws rows on every event
 * (Server-Sent Events) may replace the element between puppeteer's finding
 * and clicking it ("Node is detached from document"): then it is found and
 * clicked again, a few times at most.
 */
export async function clickLive(page: Page, selector: string): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      return await page.click(selector);
    } catch (err) {
      if (tries >= 5 || !/detached/i.test(String(err))) throw err;
    }
  }
}
