/**
 * The workflow commands on the shared set-up: qpy-multiuser granting two
 * real sshd nodes to two users' masters, which run every job over SSH. A
 * 1,000-job array capped at %10 (never more than 10 running, sampled every
 * 50 ms), a dependent naming the array by its ID, an afterok chain whose
 * head fails, priorities, hold/release, --retry 2, wait's exit codes, follow
 * of a job on a node, why for each reason (the allocator killed for the
 * last), and `retry failed` after a node failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useCluster } from '../helpers/sshd-cluster.js';
import { admin, joinedUser, testMultiuser } from '../helpers/multiuser.js';
import { QPY, checkStatuses, type QpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';
import type { GroupSummary, Job } from '../../src/protocol/job.js';

const sshd = useCluster(2);
const skip = sshd.skip;

const statusOf = async (u: QpyUser, id: number) => checkStatuses(await u.ok(['check', String(id)])).get(id)?.status;
const jobsJson = async (u: QpyUser, ...args: string[]) => (JSON.parse(await u.ok(['check', '--json', ...args])) as { jobs: Job[] }).jobs;

test('workflows on qpy-multiuser and sshd nodes: capped array, dependencies, priorities, holds, retries, wait, follow, why, retry after a node failure', {
  skip,
  timeout: 240_000,
}, async () => {
  const [a, b] = sshd.cluster.nodes.map((n) => n.name) as [string, string];
  const env = { QPY_SSH_CONFIG: sshd.cluster.sshConfig, QPY_PROBE_MS: '0', QPY_NODE_DOWN_AFTER_MS: '1500', QPY_KILL_GRACE_MS: '500' };
  const nodes = (mem: number, gpu: boolean) =>
    `${a} address=${a} cores=8 memory=${mem}${gpu ? ' attributes=gpu' : ''}\n${b} address=${b} cores=8 memory=${mem}\n`;
  await using mu = testMultiuser({ nodes: nodes(16, true), env });
  await admin(mu, ['start']);
  await using ann = await joinedUser(mu, 'ann', env);

  // 1. A 1,000-job array capped at %10, and a job naming the array by its ID.
  assert.equal(
    await ann.ok(['sub', '-m', '0.1', '--array', '1-1000%10', 'sleep 0.05; echo $QPY_ARRAY_INDEX > i.$QPY_ARRAY_INDEX']),
    'Jobs 1-1000 received (array 1).\n',
  );
  assert.equal(await ann.ok(['sub', '-m', '0.1', '--afterok', '1', 'ls i.* | wc -l > count']), 'Job 1001 received.\n');
  assert.match(await ann.ok(['check', '1001']), /; afterok 1-1000\)$/m);
  let most = 0;
  let samples = 0;
  await waitFor(
    async () => {
      const g = (JSON.parse(await ann.ok(['check', '--groups', '--json', '1-1000'])) as { groups: GroupSummary[] }).groups[0]!;
      const running = g.counts.find(([s]) => s === 'running')?.[1] ?? 0;
      most = Math.max(most, running);
      samples++;
      return g.counts.length === 1 && g.counts[0]![0] === 'done';
    },
    { what: 'the array done', timeoutMs: 120_000, intervalMs: 50 },
  );
  assert.ok(most <= 10, `${most} of the array ran at once`);
  assert.ok(most >= 5, `the cap, not one at a time (at most ${most} seen in ${samples} samples)`);
  assert.equal(
    await ann.ok(['check', '-g', '1-1000']),
    'array 1 (jobs 1-1000, indices 1-1000, at most 10 at once): 1000 done: sleep 0.05; echo $QPY_ARRAY_INDEX > i.$QPY_ARRAY_INDEX\n',
  );
  assert.equal(await ann.ok(['wait', '1-1001']), 'All 1001 jobs ended done.\n');
  assert.equal(readFileSync(join(ann.work, 'count'), 'utf8').trim(), '1000');
  assert.equal(readFileSync(join(ann.work, 'i.734'), 'utf8'), '734\n');

  // 2. A → (afterok) B where A fails: B undone with its reason; wait says so, exit 1.
  await ann.ok(['sub', '-m', '0.1', 'exit 3']); // 1002
  await ann.ok(['sub', '-m', '0.1', '--afterok', '1002', 'touch b-ran']); // 1003
  const chain = await ann.qpy(['wait', '1002-1003']);
  assert.deepEqual([chain.code, chain.stderr], [1, 'qpy: 2 of 2 jobs did not end done: 1002 (failed), 1003 (undone)\n']);
  assert.match(await ann.ok(['check', '1003']), /^1003 \(undone\):touch b-ran \(on None; wd: [^;]+; job 1002 ended failed\)$/m);

  // 3. Priorities reorder the queue; a held job stays queued; why explains paused and held.
  await ann.ok(['ctrlQueue', 'pause']);
  await ann.ok(['sub', '-m', '0.1', 'true']); // 1004
  await ann.ok(['sub', '-m', '0.1', '--priority', '5', 'true']); // 1005
  await ann.ok(['sub', '-m', '0.1', '--priority', '-1', 'true']); // 1006
  await ann.ok(['sub', '-m', '0.1', '--priority', '9', 'true']); // 1007
  await ann.ok(['hold', '1007']);
  assert.deepEqual([...checkStatuses(await ann.ok(['check', 'queue'])).keys()], [1007, 1005, 1004, 1006]);
  assert.equal(await ann.ok(['why', '1004']), 'Job submission is paused: no queued job starts until you run qpy ctrlQueue continue.\n');
  await ann.ok(['ctrlQueue', 'continue']);
  assert.equal(await ann.ok(['wait', '1004-1006']), 'All 3 jobs ended done.\n');
  const started = new Map((await jobsJson(ann, '1004-1006')).map((j) => [j.id, j.state.type === 'done' ? j.state.startedAt : NaN]));
  assert.ok(
    started.get(1005)! <= started.get(1004)! && started.get(1004)! <= started.get(1006)!,
    `started in priority order: ${[...started]}`,
  );
  assert.equal(await statusOf(ann, 1007), 'queue');
  assert.equal(await ann.ok(['why', '1007']), 'Job 1007 is held: it starts only after qpy release 1007.\n');
  await ann.ok(['release', '1007']);
  assert.equal(await ann.ok(['wait', '1007']), 'The job ended done.\n');

  // 4. --retry 2 on a job that fails twice, then succeeds.
  await ann.ok(['sub', '-m', '0.1', '--retry', '2', 'echo "run $QPY_ATTEMPT on $QPY_NODE" >> runs; [ "$QPY_ATTEMPT" = 3 ]']); // 1008
  assert.equal(await ann.ok(['wait', '1008']), 'The job ended done.\n');
  assert.match(await ann.ok(['check', '1008']), /; exit 0; attempt 3\)$/m);
  assert.deepEqual(
    readFileSync(join(ann.work, 'runs'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ')[1]),
    ['1', '2', '3'],
  );

  // 5. follow: lines written on a node show within a second.
  await ann.ok(['sub', '-m', '0.1', 'echo one; while [ ! -e go ]; do sleep 0.05; done; echo two']); // 1009
  const follower = spawn(QPY, ['follow', '1009'], { env: ann.env, cwd: ann.work });
  let out = '';
  follower.stdout.on('data', (d) => (out += d));
  const followed = new Promise<number | null>((r) => follower.on('exit', r));
  await waitFor(() => out === 'one\n', { what: 'the first line, while the job runs', timeoutMs: 10_000 });
  const t = Date.now();
  writeFileSync(join(ann.work, 'go'), '');
  await waitFor(() => out === 'one\ntwo\n', { what: 'the line written after go', timeoutMs: 5000, intervalMs: 10 });
  assert.ok(Date.now() - t < 1000, `shown ${Date.now() - t} ms after it was written`);
  assert.equal(await followed, 0);

  // 6. why, for the other reasons: a dependency, the user's share in use, no node able to run a job, the allocator unreachable.
  await using ben = await joinedUser(mu, 'ben', env);
  const release = () => {
    for (const u of [ann, ben]) writeFileSync(join(u.work, 'stop'), '');
  };
  try {
    await ben.ok(['sub', '-n', '8', '-m', '0.1', 'while [ ! -e stop ]; do sleep 0.05; done']); // ben's 1: his share of 16 cores
    await waitFor(async () => (await statusOf(ben, 1)) === 'running', { what: "ben's job running" });
    for (let i = 0; i < 8; i++) await ann.ok(['sub', '-m', '0.1', 'while [ ! -e stop ]; do sleep 0.05; done']); // 1010-1017
    await waitFor(async () => [...checkStatuses(await ann.ok(['check', 'running'])).keys()].length === 8, { what: "ann's 8 jobs running" });
    await ann.ok(['sub', '-m', '0.1', 'true']); // 1018: no room in her share, ben lends nothing
    await ann.ok(['sub', '-m', '0.1', '--after', '1010', 'true']); // 1019
    await ann.ok(['sub', '-m', '12', '-a', 'gpu', 'true']); // 1020: fits now, not after the reload below
    await ann.ok(['sub', '-m', '12', 'true']); // 1021: likewise
    await waitFor(async () => /share of the cluster is in use/.test(await ann.ok(['why', '1018'])), {
      what: 'job 1018 refused for lack of room',
    });
    assert.equal(
      await ann.ok(['why', '1018']),
      'Your share of the cluster is in use, and no idle user has cores to lend: job 1018 (1 core and 0.1 GB) starts as cores are freed.\n',
    );
    assert.equal(await ann.ok(['why', '1019']), 'Job 1019 waits for job 1010 to end.\n');
    writeFileSync(mu.paths.nodes, nodes(8, false));
    await admin(mu, ['nodes']);
    assert.match(await ann.ok(['why', '1020']), /^No node can ever run job 1020: .*gpu.*\. Kill it, or submit it again with less\.\n$/);
    assert.match(await ann.ok(['why', '1021']), /^No node can ever run job 1021: .*memory.*\. Kill it, or submit it again with less\.\n$/);
    await mu.kill();
    const away = 'qpy-multiuser, which shares out the cluster, is not reachable: queued jobs wait for it (running ones go on).\n';
    await waitFor(async () => (await ann.ok(['why', '1018'])) === away, { what: 'why: the allocator unreachable' });
    await admin(mu, ['start']);
  } finally {
    release(); // on a failure too: no job is left waiting for it
  }
  await ann.ok(['kill', '1020', '1021']);
  assert.equal(await ann.ok(['wait', '1010-1019']), 'All 10 jobs ended done.\n');
  await ann.ok(['clean', 'all']);

  // 7. retry failed after a node failure: not while the node may still run the job, then under its ID.
  await ann.ok(['sub', '-m', '0.1', '-a', b, '[ "$QPY_ATTEMPT" = 2 ] || sleep 300']); // 1022
  await waitFor(
    async () => {
      const [j] = await jobsJson(ann, '1022');
      return j?.state.type === 'running' && j.state.pid !== null;
    },
    { what: 'job 1022 launched on its node' },
  );
  await sshd.cluster.crash(1);
  await waitFor(async () => (await statusOf(ann, 1022)) === 'node_failed', { what: 'job 1022 node_failed', timeoutMs: 30_000 });
  const early = await ann.qpy(['retry', 'failed']);
  assert.equal(early.code, 1);
  assert.match(early.stderr, new RegExp(`^qpy: not queued again: job 1022 \\(on ${b}\\) may still run`));
  await sshd.cluster.start(1);
  const again = await waitFor(
    async () => {
      const r = await ann.qpy(['retry', 'failed']);
      return r.code === 0 ? r.stdout : null;
    },
    { what: 'retry accepted once the node is back and cleared', timeoutMs: 60_000, intervalMs: 250 },
  );
  assert.equal(again, '1 job queued again.\n');
  assert.equal(await ann.ok(['wait', '1022']), 'The job ended done.\n');
  const [j] = await jobsJson(ann, '1022');
  assert.deepEqual(
    j!.attempts?.map((x) => [x.status, x.node]),
    [['node_failed', b]],
  );
});
