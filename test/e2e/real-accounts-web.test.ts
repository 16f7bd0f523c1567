/**
 * The user's page (issue 17) with real Unix accounts on a shared cluster
 * (as root, as CI runs): alice's and bob's masters, each under its own uid,
 * serve their own pages on 127.0.0.1, where every account of the machine can
 * connect. Alice's page, opened in Chromium with her `qpy web` URL, lists her
 * job and not bob's; bob's token, bob's session and no session at all are
 * refused at her page, and hers at his.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSite } from '../helpers/real-site.js';
import { browserSkip, openBrowser, shot } from '../helpers/browser.js';
import { SITE, startAndJoin, submitted } from './real-accounts-helpers.js';
import type { Account } from '../helpers/accounts.js';
import { tempDir } from '../helpers/temp.js';

const s = useSite(SITE);

test("real accounts: each master serves only its user's page; the other's token and cookie are refused", {
  skip: s.skip || browserSkip,
  timeout: 120_000,
}, async () => {
  const { site } = s;
  await startAndJoin(site);
  const aliceJob = submitted(await site.ok(site.alice, ['sub', 'sleep 60']));
  const bobJob = submitted(await site.ok(site.bob, ['sub', 'sleep 60']));
  try {
    const web = async (u: Account) => {
      const url = new URL((await site.ok(u, ['web'])).trim());
      return { url: url.href, origin: url.origin, token: url.searchParams.get('token')! };
    };
    const a = await web(site.alice);
    const b = await web(site.bob);
    assert.notEqual(a.origin, b.origin);

    // A session for each, from their own tokens (spent then).
    const open = async (w: { url: string }) => {
      const r = await fetch(w.url, { redirect: 'manual' });
      assert.equal(r.status, 303);
      return (r.headers.get('set-cookie') ?? '').split(';')[0]!;
    };
    const b2 = await web(site.bob);
    assert.equal((await fetch(`${a.origin}/?token=${b2.token}`, { redirect: 'manual' })).status, 403, "bob's token at alice's page");
    const bobCookie = await open(b);
    const get = (origin: string, cookie: string) => fetch(`${origin}/`, { headers: { cookie }, redirect: 'manual' });
    assert.equal((await get(a.origin, bobCookie)).status, 403, "bob's cookie at alice's page");
    const renamed = `qpy_user_${new URL(a.origin).port}=${bobCookie.split('=')[1]}`;
    assert.equal((await get(a.origin, renamed)).status, 403, "bob's session under alice's cookie name");
    assert.equal((await get(a.origin, '')).status, 403, 'no session');
    const bobPage = await (await get(b.origin, bobCookie)).text();
    assert.match(bobPage, new RegExp(`data-id="${bobJob}"`));
    assert.match(bobPage, new RegExp(`Jobs of ${site.bob.name}<`));
    assert.doesNotMatch(bobPage, /sleep 60.*sleep 60/s, "bob's page lists only his job");

    await using browser = await openBrowser();
    const page = await browser.newPage();
    assert.equal((await page.goto(a.url))?.status(), 200);
    assert.equal(await page.$eval('h1', (e) => e.textContent), `Jobs of ${site.alice.name}`);
    await page.waitForSelector(`tr[data-id="${aliceJob}"]`);
    // Her job IDs and bob's are numbered apart; her page lists only hers.
    const rows = await page.$$eval('#jobs-body tr', (rs) => rs.map((r) => r.textContent ?? ''));
    assert.equal(rows.length, 1);
    assert.match(rows[0]!, /sleep 60/);
    await using tmp = tempDir();
    await shot(page, tmp.path, 'user-page-real-accounts');
  } finally {
    await site.qpy(site.alice, ['kill', 'all']);
    await site.qpy(site.bob, ['kill', 'all']);
  }
});
