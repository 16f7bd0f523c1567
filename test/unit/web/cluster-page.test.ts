/**
 * The cluster page's pure parts (issue 17): the `web` file's words, the
 * rule that off loopback needs TLS, the tables (escaped, and without any
 * warning's text), the plots from samples (columns, stacking, captions),
 * the coarse mean of samples, and the report page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWebSetting, parseWebSetting, webSettingText } from '../../../src/daemons/multiuser/web-file.js';
import { clusterPage, clusterTables } from '../../../src/web/cluster-page.js';
import { utilisationPlot, utilisationPlots, type UtilSample } from '../../../src/web/cluster-plot.js';
import { reportPage } from '../../../src/web/cluster-report.js';
import { meanSample } from '../../../src/daemons/multiuser/web-samples.js';
import type { ClusterStatus } from '../../../src/protocol/cluster.js';

test('the web file: on, on ADDRESS:PORT, [IPv6]:PORT, off, comments; wrong words say what to give', () => {
  assert.deepEqual(parseWebSetting(''), { on: false });
  assert.deepEqual(parseWebSetting('# nothing\n\n'), { on: false });
  assert.deepEqual(parseWebSetting('off\n'), { on: false });
  assert.deepEqual(parseWebSetting('on'), { on: true, host: '127.0.0.1', port: 8340 });
  assert.deepEqual(parseWebSetting('on 10.0.0.5:80  # the head node'), { on: true, host: '10.0.0.5', port: 80 });
  assert.deepEqual(parseWebSetting('on [::1]:0'), { on: true, host: '::1', port: 0 });
  assert.equal(webSettingText({ on: true, host: '::1', port: 9 }), 'on [::1]:9');
  for (const [text, why] of [
    ['on host', /ADDRESS:PORT/],
    ['on a:70000', /above 65535/],
    ['maybe', /neither on nor off/],
    ['on a:1 b', /too many words/],
    ['off 1.2.3.4:5', /neither on nor off/],
    ['on a:1\noff', /one line only/],
  ] as const)
    assert.throws(
      () => parseWebSetting(text),
      (e: Error) => why.test(e.message) && e.message.includes('is not a web setting'),
      text,
    );
  assert.doesNotThrow(() => checkWebSetting({ on: true, host: '127.0.0.1', port: 1 }, false));
  assert.doesNotThrow(() => checkWebSetting({ on: true, host: '0.0.0.0', port: 1 }, true));
  assert.throws(() => checkWebSetting({ on: true, host: '0.0.0.0', port: 1 }, false), /off loopback \(0\.0\.0\.0\) only when .* TLS/);
});

const status: ClusterStatus = {
  users: [{ name: 'a<b', usedCores: 3, queueSize: 2, minCores: 1, extraCores: 3, gpus: { used: 1, min: 0, extra: 2, queue: 0 } }],
  nodes: [
    {
      name: 'n<1>',
      address: '10.0.0.9',
      cores: 8,
      usedCores: 3,
      outsiders: 1,
      load: 2.5,
      totalMemGB: 64,
      usedMemGB: 3,
      reqMemGB: 12.5,
      disk: null,
      attributes: [],
      up: false,
      drained: true,
      removed: false,
      prefMulticore: false,
      unreachableFor: [{ user: 'a<b', reason: 'ssh: /home/a/.ssh/id_ed25519 denied' }],
      gpus: { total: 2, used: 1, share: 1, outsiders: [1] },
    },
  ],
  totalCores: 8,
  usedCores: 4,
  warnings: ['job 12 of a<b holds 2 cores on node gone, /home/a/secret'],
};

test('the tables: every number of the status, names escaped, marks, and no warning text, reason or address', () => {
  const t = clusterTables(status, 0).text;
  assert.match(t, /<th scope="row">n&lt;1&gt;<\/th>/);
  assert.match(t, /data-k="cores">3\/8</);
  assert.match(t, /data-k="mem">12\.5\/64</);
  assert.match(t, /data-k="gpus">1\/2 \(1 held outside qpy\)</);
  assert.match(t, /<span class="down">down<\/span> <span class="warn">drained<\/span> <span class="warn">unreachable for a&lt;b<\/span>/);
  assert.match(t, /data-k="entitled">4<.*data-k="cores">3<.*data-k="gpu-entitled">2<.*data-k="gpus">1<.*data-k="queue">2</s);
  assert.match(t, /1 warning: see qpy-admin status\./);
  for (const s of ['secret', 'id_ed25519', '10.0.0.9', 'job 12', '<b']) assert.ok(!t.includes(s), s);
  const page = clusterPage(status, utilisationPlots([], [], 0), 0);
  assert.match(page, /<script src="\/cluster\.js" defer><\/script>/);
  assert.match(page, /Last hour: no samples yet\./);
});

test('the plots: samples averaged into columns, users stacked under busy outside qpy and idle, a caption and a table', () => {
  const now = 3_600_000;
  const samples: UtilSample[] = [];
  for (let at = 0; at <= now; at += 15_000)
    samples.push({ at, total: 8, outsiders: 1, users: at < now / 2 ? { ann: 4 } : { ann: 2, '<ben>': 4 } });
  const plot = utilisationPlot('p', 'Last hour', [{ at: -1, total: 8, outsiders: 0, users: { old: 8 } }, ...samples], now, 3_600_000).text;
  assert.match(plot, /data-points="240" data-samples="241"/);
  assert.deepEqual(
    [...plot.matchAll(/data-series="([^"]+)"/g)].map((m) => m[1]),
    ['user &lt;ben&gt;', 'user ann', 'busy outside qpy', 'idle'],
  );
  assert.ok(!plot.includes('old'), 'a sample before the window is left out');
  assert.match(plot, /figcaption id="p-cap">Last hour: on average 6 of 8 cores busy \(75%\), 2 users;/);
  assert.match(plot, /<th scope="row">ann<\/th><td class="num">3<\/td><td class="num">4<\/td>/);
  assert.match(plot, /<th scope="row">idle<\/th><td class="num">2<\/td><td class="num">3<\/td>/);
  assert.match(plot, /<svg role="img" aria-labelledby="p-cap"/);
});

test('a coarse point is the mean of its samples, dated at the last', () => {
  assert.deepEqual(
    meanSample([
      { at: 1, total: 8, outsiders: 1, users: { a: 2 } },
      { at: 2, total: 8, outsiders: 0, users: { a: 4, b: 2 } },
    ]),
    { at: 2, total: 8, outsiders: 0.5, users: { a: 3, b: 1 } },
  );
});

test('the report page: a real table of the report, the words asked for kept in the form, escaped', () => {
  const text = reportPage(
    {
      since: 0,
      until: 7_200_000,
      now: 7_200_000,
      rules: 'even',
      totalCores: 4,
      users: [{ name: 'a<b', coreHours: 2, gbHours: 4, jobs: 3, failed: 1, share: 1, entitlement: 0.5 }],
      total: { coreHours: 2, gbHours: 4, jobs: 3, failed: 1 },
      capacityCoreHours: 8,
    },
    { since: '2h"><x', until: '' },
  );
  assert.match(text, /<tr data-user="a&lt;b"><th scope="row">a&lt;b<\/th><td class="num">2\.00<\/td><td class="num">4\.00<\/td>/);
  assert.match(text, /data-k="jobs">3<\/td><td class="num">1<\/td>\s*<td class="num">100\.0%<\/td><td class="num">50\.0%<\/td>/);
  assert.match(text, /value="2h&quot;&gt;&lt;x"/);
  assert.match(text, /The cluster held 2\.00 of 8\.00 core-hours \(25\.0%\)\./);
  assert.match(text, /Usage from 1970-01-01 00:00 UTC to 1970-01-01 02:00 UTC \(now\)/);
});
