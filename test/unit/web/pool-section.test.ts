/** The Slurm pools section of both web pages (issue 18): settings, pilots, escaping, and what the cluster page leaves out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterStatus, PoolView } from '../../../src/protocol/cluster.js';
import { minutesLeft, pilotCounts, poolSettings, poolsSection, timeLimit } from '../../../src/web/pool-section.js';
import { clusterTables } from '../../../src/web/cluster-page.js';
import { jobsPage } from '../../../src/web/user-page.js';

const NOW = 1_000_000_000;

const pool: PoolView = {
  name: 'p<1>',
  kind: 'slurm',
  partition: 'debug"x',
  maxNodes: 2,
  cores: 1,
  memGB: 0.5,
  timeLimitS: 36_000,
  idleMin: 5,
  reach: 'ssh',
  pilots: [
    {
      jobId: '41',
      state: 'RUNNING',
      reason: null,
      host: 'c7.hpc.example',
      node: 'p<1>-41',
      endsAt: NOW + 125 * 60_000 + 59_000,
      connected: false,
      ending: null,
    },
    { jobId: '42', state: 'PENDING', reason: 'Resources<script>', host: null, node: null, endsAt: null, connected: false, ending: null },
    {
      jobId: '43',
      state: 'RUNNING',
      reason: null,
      host: 'c8.hpc.example',
      node: 'p<1>-43',
      endsAt: NOW + 30_000,
      connected: false,
      ending: 'time',
    },
  ],
  problem: 'sbatch failed: /home/ann/.qpy/pools/p/pilot.sh: Invalid partition',
};

test('time left in whole minutes, a time limit as the pool line writes it, pilots counted by state', () => {
  assert.equal(minutesLeft(-5), 'under 1 min');
  assert.equal(minutesLeft(59_999), 'under 1 min');
  assert.equal(minutesLeft(12 * 60_000 + 59_000), '12 min');
  assert.equal(minutesLeft(125 * 60_000), '2 h 05 min');
  assert.equal(timeLimit(36_000), '10:00:00');
  assert.equal(timeLimit(90), '00:01:30');
  assert.equal(pilotCounts(pool.pilots), '2 RUNNING, 1 PENDING');
  assert.equal(pilotCounts([]), 'no pilot');
  assert.equal(
    poolSettings(pool),
    'Partition debug"x; up to 2 pilots of 1 core, 0.5 GB, 10:00:00 each; reached by ssh; a pilot idle 5 min ends.',
  );
});

test("the user's section: each pilot's Slurm job ID, state, reason, host, node, time left and ending; the failure; all escaped", () => {
  const t = poolsSection([pool], NOW, 'user').text;
  assert.match(t, /<h2 id="pools-h">Slurm pools<\/h2>/);
  assert.match(t, /<h3>Pool p&lt;1&gt;: <span data-k="counts">2 RUNNING, 1 PENDING<\/span><\/h3>/);
  assert.match(t, /Partition debug&quot;x; up to 2 pilots/);
  assert.match(
    t,
    /<tr data-pilot="41" data-state="RUNNING"><th scope="row" class="num">41<\/th>\s*<td data-k="state">RUNNING<\/td><td data-k="reason"><\/td><td data-k="host">c7\.hpc\.example<\/td>\s*<td data-k="node">p&lt;1&gt;-41<\/td><td class="num" data-k="left">2 h 05 min<\/td><td data-k="ending"><\/td><\/tr>/,
  );
  assert.match(
    t,
    /data-pilot="42" data-state="PENDING">.*data-k="reason">Resources&lt;script&gt;<\/td><td data-k="host"><\/td>\s*<td data-k="node"><\/td><td class="num" data-k="left"><\/td>/s,
  );
  assert.match(t, /data-pilot="43".*data-k="left">under 1 min<\/td><td data-k="ending">near its time limit<\/td>/s);
  assert.match(
    t,
    /<p class="warn" data-k="problem">Slurm said: sbatch failed: \/home\/ann\/\.qpy\/pools\/p\/pilot\.sh: Invalid partition<\/p>/,
  );
  assert.ok(!t.includes('<script>') && !t.includes('p<1>'));
  assert.equal(poolsSection(undefined, NOW, 'user').text, '');
  assert.equal(poolsSection([], NOW, 'user').text, '');
});

test('a pool without pilots says so; reach=agent tells whether the pilot is connected', () => {
  const empty = poolsSection([{ ...pool, pilots: [], problem: null }], NOW, 'user').text;
  assert.match(empty, /<td colspan="7" class="muted">No pilot now: one is submitted while jobs wait\.<\/td>/);
  assert.ok(!empty.includes('data-k="problem"'));
  const agent = poolsSection(
    [{ ...pool, reach: 'agent', pilots: [{ ...pool.pilots[0]!, connected: true }, pool.pilots[1]!] }],
    NOW,
    'user',
  ).text;
  assert.match(agent, /data-k="state">RUNNING, agent connected</);
  assert.match(agent, /data-k="state">PENDING</);
});

test('the cluster page: pool name, partition, counts, Slurm job IDs, states, reasons and node names; no host, no failure text', () => {
  const status: ClusterStatus = { users: [], nodes: [], totalCores: 0, usedCores: 0, warnings: [], pools: [pool] };
  const t = clusterTables(status, NOW).text;
  assert.match(t, /<div id="pools"><h2 id="pools-h">Slurm pools<\/h2>/);
  assert.match(t, /2 RUNNING, 1 PENDING/);
  assert.match(
    t,
    /<tr data-pilot="41" data-state="RUNNING">.*<td data-k="node">p&lt;1&gt;-41<\/td><td class="num" data-k="left">2 h 05 min/s,
  );
  assert.match(t, /data-k="reason">Resources&lt;script&gt;</);
  assert.match(t, /A Slurm command failed: see qpy-admin status\./);
  for (const s of ['hpc.example', 'Host', '/home/ann', 'pilot.sh']) assert.ok(!t.includes(s), s);
  assert.match(clusterTables({ ...status, pools: undefined }, NOW).text, /<div id="pools"><\/div>/);
});

test("the user's page holds the section in #pools, which its script replaces when the pools change", () => {
  const page = (pools: PoolView[]) =>
    jobsPage({
      user: 'ann',
      jobs: [],
      matched: 0,
      selector: { statuses: [], dirs: [], ranges: [] },
      paused: false,
      pools,
      csrf: 'C',
      now: NOW,
    });
  assert.match(page([pool]), /<div id="pools"><h2 id="pools-h">Slurm pools<\/h2>/);
  assert.match(page([]), /<div id="pools"><\/div>/);
});
