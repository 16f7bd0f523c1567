/**
 * The Slurm pools section of the user's page (issue 18) in a real Chromium,
 * with a real Slurm (test/helpers/slurm.ts) and a real sshd node (reach=ssh):
 * while another Slurm job holds the node, the page shows the pool's pilot
 * with its Slurm job ID, PENDING and Slurm's reason; once that job is
 * cancelled, the same page (no reload) shows the pilot RUNNING on its node,
 * and the master's `pools` event carried the change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import type { Page } from 'puppeteer-core';
import { browserSkip, keepShot, openBrowser } from '../helpers/browser.js';
import { useCluster } from '../helpers/sshd-cluster.js';
import { qpyUser } from '../helpers/qpy.js';
import { slurmMissing, startSlurm, type Slurm, sshConfigForNode, occupySlurm } from '../helpers/slurm.js';
import { waitFor } from '../helpers/wait.js';

const sshd = useCluster(1);
const skip = browserSkip || sshd.skip || slurmMissing() || false;

/** The pool's pilots in Slurm: their job IDs. */
const pilotIds = async (slurm: Slurm): Promise<string[]> =>
  (await slurm.run('squeue', ['--noheader', `--user=${userInfo().username}`, '--format=%i %j']))
    .split('\n')
    .filter((l) => l.includes('qpy-pilot-'))
    .map((l) => l.split(' ')[0]!);

/** The pilot row's cells, as the page shows them now. */
const pilotRow = (page: Page, id: string) =>
  page.$eval(`tr[data-pilot="${id}"]`, (tr) =>
    Object.fromEntries([...tr.querySelectorAll('[data-k]')].map((c) => [c.getAttribute('data-k'), c.textContent ?? ''])),
  );

test("the user's page shows a pool's pilot, its Slurm job ID PENDING with Slurm's reason, then RUNNING live", {
  skip,
  timeout: 150_000,
}, async () => {
  await using slurm = await startSlurm({ cpus: 2, memoryMB: 2048 });
  // Another Slurm job holds the whole node: the pilot stays pending.
  const blocker = await occupySlurm(slurm, 2);
  await using u = qpyUser({
    nodes: `pool p slurm partition=${slurm.partition} nodes=1 cores=1 memory=0.5 time=00:10:00 idle=5 reach=ssh\n`,
    env: { SLURM_CONF: slurm.conf, QPY_SSH_CONFIG: sshConfigForNode(slurm, sshd.cluster.sshConfig), QPY_POOL_POLL_MS: '500' },
  });
  await u.ok(['sub', '-m', '0.1', 'true']);
  const id = await waitFor(async () => (await pilotIds(slurm))[0] ?? null, { what: 'a pilot in Slurm', timeoutMs: 30_000 });

  await using browser = await openBrowser();
  const page = await browser.newPage();
  const url = (await u.ok(['web'])).trim();
  assert.equal((await page.goto(url))?.status(), 200);
  await page.waitForSelector('main[data-live="yes"]', { timeout: 5_000 });
  await page.evaluate('window.notReloaded = true');
  await page.waitForSelector(`tr[data-pilot="${id}"][data-state="PENDING"]`, { timeout: 20_000 });
  await page.waitForFunction(`document.querySelector('tr[data-pilot="${id}"] [data-k="reason"]')?.textContent === 'Resources'`, {
    timeout: 20_000,
  });
  assert.match(await page.$eval('#pools h3', (e) => e.textContent ?? ''), /^Pool p: 1 PENDING$/);
  assert.match(
    await page.$eval('#pools [data-k="settings"]', (e) => e.textContent ?? ''),
    new RegExp(`Partition ${slurm.partition}; up to 1 pilot`),
  );
  assert.deepEqual(await pilotRow(page, id), { state: 'PENDING', reason: 'Resources', host: '', node: '', left: '', ending: '' });
  await keepShot(page, u.home, 'user-page-pool-pending');

  // The node is free: Slurm starts the pilot, and the page follows without a reload (the `pools` event says so too).
  await page.evaluate(
    `window.poolEvents = []; new EventSource('/events').addEventListener('pools', (e) => poolEvents.push(JSON.parse(e.data)))`,
  );
  await slurm.run('scancel', [blocker]);
  await page.waitForSelector(`tr[data-pilot="${id}"][data-state="RUNNING"]`, { timeout: 30_000 });
  await page.waitForFunction(`document.querySelector('tr[data-pilot="${id}"] [data-k="node"]')?.textContent === 'p-${id}'`, {
    timeout: 30_000,
  });
  const row = await pilotRow(page, id);
  assert.equal(row['host'], slurm.node);
  assert.equal(row['reason'], '');
  assert.match(row['left'] ?? '', /^([0-9] min|10 min|under 1 min)$/);
  assert.equal(await page.evaluate('window.notReloaded'), true, 'no reload');
  await page.waitForFunction(`window.poolEvents.some((s) => s.includes('data-pilot="${id}" data-state="RUNNING"'))`, { timeout: 5_000 });
  await keepShot(page, u.home, 'user-page-pool-running');
});
