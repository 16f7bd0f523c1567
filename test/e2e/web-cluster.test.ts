/**
 * The cluster page of qpy-multiuser (issue 17), in a real Chromium, with
 * the real daemon probing two sshd nodes and two users' masters running
 * jobs there over SSH: `qpy-admin web on` serves it (and refuses an
 * address off loopback while the links are plain); its tables equal
 * `qpy-admin status --json`; jobs submitted from the CLI and a drain show
 * up without a reload; the plots fill from samples taken every 200 ms;
 * nothing of the jobs' commands or directories is on the page; bad
 * requests get 404 and 400; `web off` stops it. Screenshots go under the
 * test's temp dir (QPY_TEST_SHOTS names another directory to keep them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'puppeteer-core';
import { useCluster } from '../helpers/sshd-cluster.js';
import { admin, joinedUser, QPY_ADMIN, testMultiuser } from '../helpers/multiuser.js';
import { run } from '../helpers/qpy.js';
import { browserSkip, openBrowser, shot } from '../helpers/browser.js';
import { waitFor } from '../helpers/wait.js';
import type { ClusterStatus } from '../../src/protocol/cluster.js';

/** The little of the DOM the page's checks use (the tests compile without the DOM library). */
interface El {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
  querySelector(sel: string): El | null;
  querySelectorAll(sel: string): ArrayLike<El> & Iterable<El>;
}
declare const document: El;

const sshd = useCluster(2);
const skip = sshd.skip || browserSkip;

/** What the page's tables show, cell by cell (by the data-k of each cell). */
async function pageTables(
  page: Page,
): Promise<{ nodes: Record<string, Record<string, string>>; users: Record<string, Record<string, string>>; used: string; total: string }> {
  return page.evaluate(() => {
    const rows = (sel: string, key: string) =>
      Object.fromEntries(
        [...document.querySelectorAll(`${sel} tbody tr[${key}]`)].map((tr) => [
          tr.getAttribute(key)!,
          Object.fromEntries([...tr.querySelectorAll('td[data-k]')].map((td) => [td.dataset['k']!, td.textContent!.trim()])),
        ]),
      );
    return {
      nodes: rows('#nodes', 'data-node'),
      users: rows('#users', 'data-user'),
      used: document.querySelector('#totals [data-k="used"]')!.textContent!,
      total: document.querySelector('#totals [data-k="total"]')!.textContent!,
    };
  });
}

/** The same cells as the status document gives them. */
function statusTables(s: ClusterStatus): Awaited<ReturnType<typeof pageTables>> {
  const n1 = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
  return {
    nodes: Object.fromEntries(
      s.nodes.map((n) => [
        n.name,
        {
          cores: `${n.usedCores}/${n.cores}`,
          outsiders: String(n.outsiders),
          mem: `${n1(n.reqMemGB)}/${n1(n.totalMemGB)}`,
          gpus: n.gpus === undefined ? '-' : `${n.gpus.used}/${n.gpus.total * n.gpus.share}`,
          load: n.load.toFixed(2),
          state: [!n.up && 'down', n.drained && 'drained', n.removed && 'removed'].filter(Boolean).join(' ') || 'up',
        },
      ]),
    ),
    users: Object.fromEntries(
      s.users.map((u) => [
        u.name,
        {
          entitled: String(u.minCores + u.extraCores),
          cores: String(u.usedCores),
          'gpu-entitled': u.gpus === undefined ? '-' : String(u.gpus.min + u.gpus.extra),
          gpus: u.gpus === undefined ? '-' : String(u.gpus.used),
          queue: String(u.queueSize),
        },
      ]),
    ),
    used: String(s.usedCores),
    total: String(s.totalCores),
  };
}

test('the cluster page: served on loopback, equal to status --json, live without reload, plots, nothing private, 404/400, off', {
  skip,
  timeout: 120_000,
}, async () => {
  const [a, b] = sshd.cluster.nodes.map((n) => n.name) as [string, string];
  const env = { QPY_SSH_CONFIG: sshd.cluster.sshConfig, QPY_PROBE_MS: '1000', QPY_WEB_SAMPLE_MS: '200' };
  await using mu = testMultiuser({ nodes: `${a} address=${a} cores=4 memory=16\n${b} address=${b} cores=2 memory=16\n`, env });
  const shots = process.env['QPY_TEST_SHOTS'] ?? mu.dir.path;
  await admin(mu, ['start']);

  // Off loopback while the links are plain: refused with one clear line, nothing served.
  const refused = await run(QPY_ADMIN, ['web', 'on', '0.0.0.0:0'], mu.dir.path, mu.env);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /^qpy-admin: the cluster page is served off loopback \(0\.0\.0\.0\) only when qpy-multiuser's links use TLS/,
  );
  const on = await admin(mu, ['web', 'on', '127.0.0.1:0']);
  const url = /^The cluster page is served at (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(on)?.[1];
  assert.ok(url, on);
  assert.match(on, /ssh -L (\d+):127\.0\.0\.1:\1 THIS_HOST/);
  assert.equal(readFileSync(mu.paths.web, 'utf8'), 'on 127.0.0.1:0\n');

  await using ann = await joinedUser(mu, 'ann', env);
  await using ben = await joinedUser(mu, 'ben', env);
  const secrets = ['SECRET-ann-7f3a', 'SECRET-ben-91c2', 'SECRET-ann-queued-5d'];
  await ann.ok(['sub', '-m', '1', `echo ${secrets[0]}; sleep 40`]);

  await using browser = await openBrowser();
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  await page.goto(url);
  await shot(page, shots, 'cluster-first');

  const status = async () => JSON.parse(await admin(mu, ['status', '--json'])) as ClusterStatus;
  // The page equals status --json (read together until the state holds still: load and jobs move).
  await waitFor(async () => JSON.stringify(await pageTables(page)) === JSON.stringify(statusTables(await status())), {
    what: 'the page equal to qpy-admin status --json',
    timeoutMs: 15_000,
  });

  // Jobs submitted from the CLI: the page's numbers follow without a reload.
  let reloads = 0;
  page.on('framenavigated', () => reloads++);
  await ben.ok(['sub', '-m', '1', '-n', '2', `echo ${secrets[1]}; sleep 40`]);
  await ann.ok(['sub', '-m', '1', '-n', '4', `echo ${secrets[2]}; sleep 40`]); // waits: ann's part is used
  await waitFor(async () => (await pageTables(page)).users['ben']?.['cores'] === '2', {
    what: 'ben’s 2 cores on the page',
    timeoutMs: 10_000,
  });
  await waitFor(async () => (await pageTables(page)).users['ann']?.['queue'] === '1', {
    what: 'ann’s queued job on the page',
    timeoutMs: 10_000,
  });
  await admin(mu, ['drain', b]);
  await waitFor(async () => (await pageTables(page)).nodes[b]?.['state'] === 'drained', { what: 'the drained mark', timeoutMs: 10_000 });
  await waitFor(async () => JSON.stringify(await pageTables(page)) === JSON.stringify(statusTables(await status())), {
    what: 'the page equal to qpy-admin status --json again',
    timeoutMs: 15_000,
  });
  assert.equal(reloads, 0, 'the page was not reloaded');

  // The plots fill from the samples, pushed to the page: ann's and ben's cores stacked.
  await waitFor(
    () =>
      page.evaluate(
        () =>
          Number(document.querySelector('#plot-hour')?.getAttribute('data-samples') ?? 0) >= 10 &&
          Number(document.querySelector('#plot-hour')?.getAttribute('data-points') ?? 0) >= 1 &&
          document.querySelector('#plot-hour [data-series="user ben"]') !== null,
      ),
    { what: 'points in the hour plot', timeoutMs: 15_000 },
  );
  const caption = await page.$eval('#plot-hour figcaption', (e) => e.textContent!);
  assert.match(caption, /^Last hour: on average [\d.]+ of [\d.]+ cores busy/);
  assert.ok(await page.$('#plot-week svg'));
  await shot(page, shots, 'cluster-live');

  // Nothing of the jobs on the page, its script or its event stream: no command, no directory.
  const raw = async (path: string) => (await fetch(new URL(path, url))).text();
  const events = await new Promise<string>((resolve) => {
    void fetch(new URL('/events', url)).then(async (r) => {
      const reader = r.body!.getReader();
      let text = '';
      while (!text.includes('event: plots')) text += new TextDecoder().decode((await reader.read()).value);
      void reader.cancel();
      resolve(text);
    });
  });
  for (const text of [await page.content(), await raw('/'), await raw('/cluster.js'), events, await raw('/report?since=1h')]) {
    for (const s of [...secrets, ann.work, ben.work, 'sleep 40', mu.paths.dir]) assert.ok(!text.includes(s), `the page shows ${s}`);
  }

  // 404 and 400 that say why; the report for a chosen period.
  const get = async (path: string) => {
    const r = await fetch(new URL(path, url));
    return { status: r.status, text: await r.text() };
  };
  assert.deepEqual(await get('/nope'), { status: 404, text: 'no page /nope here: the cluster page is at /\n' });
  const badSince = await get('/report?since=yesterday');
  assert.equal(badSince.status, 400);
  assert.match(badSince.text, /^since: "yesterday" is not a point in time: give a duration before now/);
  assert.deepEqual(await get('/report?since=1h&user=ann'), {
    status: 400,
    text: 'unknown parameter "user" for /report: it takes since, until\n',
  });
  assert.equal((await get('/?x=1')).status, 400);
  assert.equal((await get('/report?since=1h&until=2h')).status, 400);
  assert.equal((await fetch(new URL('/', url), { method: 'POST' })).status, 405);
  await page.goto(new URL('/report?since=1h', url).href);
  const jobs = await page.$$eval('#report tbody tr', (trs) =>
    Object.fromEntries(trs.map((tr) => [tr.getAttribute('data-user'), tr.querySelector('[data-k="jobs"]')!.textContent])),
  );
  assert.deepEqual(jobs, { ann: '1', ben: '1' });
  await shot(page, shots, 'cluster-report');

  // Off: nothing listens any more, and the file says so for the next start.
  assert.equal(await admin(mu, ['web', 'off']), 'The cluster page is off.\n');
  await assert.rejects(fetch(url));
  assert.equal(readFileSync(mu.paths.web, 'utf8'), 'off\n');
});
