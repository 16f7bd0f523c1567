/**
 * The user's own page (issue 17) in a real Chromium, with real masters
 * started by `qpy` and, for the first test, real sshd nodes: a fresh
 * `qpy web` URL opens it; a job submitted from the CLI shows within 1 s
 * without a reload; the buttons kill, hold, release and retry through the
 * dialog; and what must be refused is (a spent or foreign token, a foreign
 * cookie, no session, no CSRF token, a bad filter, an unknown path). Each
 * test saves a screenshot under its temp dir (copied to
 * $QPY_TEST_ARTIFACTS too, where that is set).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { browserSkip, clickLive, keepShot, openBrowser } from '../helpers/browser.js';
import { useCluster } from '../helpers/sshd-cluster.js';
import { checkStatuses, qpyUser, type QpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

const sshd = useCluster(2);

/** A fresh URL from `qpy web`, and its origin. */
async function webUrl(u: QpyUser): Promise<{ url: string; origin: string }> {
  const url = (await u.ok(['web'])).trim();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{20,}$/);
  return { url, origin: new URL(url).origin };
}

/** Open the page with a fresh URL and wait until it listens for changes. */
async function openPage(page: Page, u: QpyUser): Promise<string> {
  const { url, origin } = await webUrl(u);
  const res = await page.goto(url);
  assert.equal(res?.status(), 200);
  assert.equal(page.url(), `${origin}/`, 'the token is dropped from the URL');
  await page.waitForSelector('main[data-live="yes"]', { timeout: 5_000 });
  return origin;
}

const status = (page: Page, id: number) => page.$eval(`tr[data-id="${id}"]`, (e) => e.getAttribute('data-status')).catch(() => null);

/** Wait until row `id` shows `status` (the page's own script updates it). */
const rowStatus = (page: Page, id: number, status: string, timeout = 20_000) =>
  page.waitForFunction(`document.querySelector('tr[data-id="${id}"]')?.getAttribute('data-status') === '${status}'`, { timeout });

/** Click a row's button, then choose Yes in the dialog from the keyboard. */
async function confirmAction(page: Page, id: number, act: string): Promise<string> {
  await clickLive(page, `tr[data-id="${id}"] button[data-act="${act}"]`);
  await page.waitForSelector('#confirm[open]');
  assert.match(await page.$eval('#confirm-text', (e) => e.textContent ?? ''), new RegExp(`job ${id}\\?`));
  await page.focus('#confirm-yes');
  await page.keyboard.press('Enter');
  await page.waitForFunction(`(document.getElementById('message')?.textContent ?? '') !== ''`, { timeout: 5_000 });
  const said = await page.$eval('#message', (e) => e.textContent ?? '');
  await page.$eval('#message', (e) => (e.textContent = ''));
  return said;
}

test('over sshd nodes: the page opens with a fresh qpy web URL, a job submitted from the CLI shows within 1 s without a reload, and Kill kills it', {
  skip: browserSkip || sshd.skip,
  timeout: 90_000,
}, async (t) => {
  const nodes = sshd.cluster.nodes.map((n) => `${n.name} address=${n.name} cores=2 memory=64`).join('\n');
  await using u = qpyUser({ nodes: `${nodes}\n`, env: { QPY_SSH_CONFIG: sshd.cluster.sshConfig } });
  await using browser = await openBrowser();
  const page = await browser.newPage();
  await openPage(page, u);
  assert.match(await page.$eval('h1', (e) => e.textContent ?? ''), /^Jobs of /);
  assert.equal(await page.$eval('#jobs-body', (e) => e.textContent?.trim()), 'No jobs match.');
  await page.evaluate('window.notReloaded = true');

  await u.ok(['sub', '-m', '0.1', 'echo "hello from $QPY_TEST_NODE"; sleep 60']);
  const submitted = Date.now();
  await page.waitForSelector('tr[data-id="1"]', { timeout: 1_000 });
  const shownAfter = Date.now() - submitted;
  assert.ok(shownAfter <= 1_000, `shown after ${shownAfter} ms`);
  t.diagnostic(`job 1 shown on the page ${shownAfter} ms after qpy sub returned`);
  assert.equal(await page.evaluate('window.notReloaded'), true, 'no reload');
  await rowStatus(page, 1, 'running', 20_000);
  // Its launch confirmed (in memory only, no write): `starting` becomes `running` on the page too.
  await page.waitForFunction(`document.querySelector('tr[data-id="1"] .status')?.textContent === 'running'`, { timeout: 5_000 });
  assert.match(await page.$eval('tr[data-id="1"]', (e) => e.textContent ?? ''), /node[12]/);

  // The job's own page follows its output, read on its node.
  const jobPage = await browser.newPage();
  await jobPage.goto(`${new URL(page.url()).origin}/job/1`);
  await jobPage.waitForFunction(`/hello from node[12]/.test(document.getElementById('output')?.textContent ?? '')`, { timeout: 10_000 });
  await keepShot(jobPage, u.home, 'user-job-running');
  await jobPage.close();

  await keepShot(page, u.home, 'user-page-running');
  assert.match(await confirmAction(page, 1, 'kill'), /Killing job 1/);
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(1)?.status === 'killed', { what: 'job 1 killed', timeoutMs: 15_000 });
  await rowStatus(page, 1, 'killed', 5_000);
  await keepShot(page, u.home, 'user-page-killed');
});

test('hold, release and retry from the page, each confirmed; Escape cancels; filters narrow the table', {
  skip: browserSkip,
  timeout: 90_000,
}, async () => {
  await using u = qpyUser();
  await u.ok(['ctrlQueue', 'pause']);
  await u.ok(['sub', '-m', '0.1', 'true']);
  await using browser = await openBrowser();
  const page = await browser.newPage();
  await openPage(page, u);
  await page.waitForSelector('tr[data-id="1"]');

  // Escape closes the dialog and nothing happens.
  await clickLive(page, 'tr[data-id="1"] button[data-act="kill"]');
  await page.waitForSelector('#confirm[open]');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#confirm:not([open])');
  assert.equal(checkStatuses(await u.ok(['check'])).get(1)?.status, 'queue');

  assert.match(await confirmAction(page, 1, 'hold'), /held/i);
  await page.waitForFunction(`/queue \\(held\\)/.test(document.querySelector('tr[data-id="1"] .status')?.textContent ?? '')`);
  assert.match(checkStatuses(await u.ok(['check'])).get(1)!.line, /held/);
  await keepShot(page, u.home, 'user-page-held');
  assert.match(await confirmAction(page, 1, 'release'), /released/i);
  await page.waitForSelector('tr[data-id="1"] button[data-act="hold"]');
  assert.doesNotMatch(checkStatuses(await u.ok(['check'])).get(1)!.line, /held/);

  await u.ok(['ctrlQueue', 'continue']);
  await u.ok(['sub', '-m', '0.1', 'echo run >> runs.txt; exit 3']);
  await rowStatus(page, 2, 'failed', 20_000);
  assert.match(await confirmAction(page, 2, 'retry'), /queued again/i);
  await waitFor(() => readFileSync(join(u.work, 'runs.txt'), 'utf8') === 'run\nrun\n', { what: 'job 2 ran twice', timeoutMs: 20_000 });
  await rowStatus(page, 2, 'failed', 20_000);

  // The filters, as check's: only failed jobs; a bad one is 400.
  await page.goto(`${new URL(page.url()).origin}/?status=failed`);
  assert.deepEqual(await page.$$eval('#jobs-body tr', (rows) => rows.map((r) => r.getAttribute('data-id'))), ['2']);
  await keepShot(page, u.home, 'user-page-filtered');
  assert.equal(await status(page, 1), null);
});

test("what is refused: a URL used twice, another user's token or cookie, no session, no CSRF token; bad filters 400, unknown paths 404", {
  skip: browserSkip,
  timeout: 60_000,
}, async () => {
  await using ann = qpyUser();
  await using bob = qpyUser();
  await ann.ok(['sub', '-m', '0.1', 'sleep 30']);
  const a = await webUrl(ann);
  const b = await webUrl(bob);
  assert.notEqual(a.origin, b.origin, 'each master serves its own page');

  // Bob's token at Ann's page, and a wrong one: 403. Ann's own: a session, once.
  assert.equal((await fetch(`${a.origin}/?token=${new URL(b.url).searchParams.get('token')}`, { redirect: 'manual' })).status, 403);
  assert.equal((await fetch(`${a.origin}/?token=wrong`, { redirect: 'manual' })).status, 403);
  const opened = await fetch(a.url, { redirect: 'manual' });
  assert.equal(opened.status, 303);
  assert.equal(opened.headers.get('location'), '/');
  const setCookie = opened.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /; HttpOnly; SameSite=Strict; Path=\//);
  const cookie = setCookie.split(';')[0]!;
  assert.equal((await fetch(a.url, { redirect: 'manual' })).status, 403, 'the same URL twice');

  const get = (origin: string, path: string, c = cookie) => fetch(`${origin}${path}`, { headers: { cookie: c }, redirect: 'manual' });
  assert.equal((await get(a.origin, '/')).status, 200);
  assert.equal((await get(a.origin, '/', '')).status, 403, 'no session');
  assert.equal((await get(b.origin, '/')).status, 403, "Ann's cookie at Bob's page");
  const bobName = `qpy_user_${new URL(b.origin).port}`;
  assert.equal((await get(b.origin, '/', `${bobName}=${cookie.split('=')[1]}`)).status, 403, "Ann's session under Bob's cookie name");
  const bad = await get(a.origin, '/?status=runing');
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /unknown status "runing"/);
  assert.equal((await get(a.origin, '/?ids=1-')).status, 400);
  assert.equal((await get(a.origin, '/?color=red')).status, 400);
  assert.equal((await get(a.origin, '/nope')).status, 404);
  assert.equal((await get(a.origin, '/job/99')).status, 404);

  // A POST without the CSRF token, or with another, changes nothing.
  const post = (body: string) =>
    fetch(`${a.origin}/action`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body });
  assert.equal((await post('action=kill&id=1')).status, 403);
  assert.equal((await post('action=kill&id=1&csrf=forged')).status, 403);
  assert.equal((await get(a.origin, '/action')).status, 405);
  assert.equal(checkStatuses(await ann.ok(['check'])).get(1)?.status, 'running');

  // In the browser too: the spent URL is refused, and says what to do.
  await using browser = await openBrowser();
  const page = await browser.newPage();
  const res = await page.goto(a.url);
  assert.equal(res?.status(), 403);
  assert.match(await page.$eval('body', (e) => e.textContent ?? ''), /qpy web/);
  await keepShot(page, ann.home, 'user-page-refused');
});
