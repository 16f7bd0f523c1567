/**
 * The browser the web page tests use: Debian's Chromium under puppeteer-core
 * loads a page served by node:http and runs its script (no network beyond
 * loopback, no browser download).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { browserSkip, openBrowser, shot } from '../helpers/browser.js';
import { tempDir } from '../helpers/temp.js';

test('Chromium loads a page from loopback and runs its script', { skip: browserSkip, timeout: 60_000 }, async () => {
  await using tmp = tempDir();
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>t</title><p id="p">static</p><script>document.getElementById("p").textContent = "scripted";</script>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await using browser = await openBrowser();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    assert.equal(await page.$eval('#p', (e) => e.textContent), 'scripted');
    assert.ok(existsSync(await shot(page, tmp.path, 'page')));
  } finally {
    server.close();
  }
});
