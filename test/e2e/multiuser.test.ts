/**
 * The shared set-up end to end, through the installed commands: the admin
 * starts qpy-multiuser and adds users with qpy-admin; each simulated user
 * (own QPY_DIR and QPY_USER) joins with the printed line; jobs are allocated
 * by the daemon; the daemon is SIGKILLed and started again while jobs run
 * and wait.
 */
import { test } from 'node:test';
import { writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { checkStatuses, run, type QpyUser } from '../helpers/qpy.js';
import { admin, joinedUser, QPY_ADMIN, testMultiuser } from '../helpers/multiuser.js';
import { waitFor } from '../helpers/wait.js';

const running = async (u: QpyUser) => [...checkStatuses(await u.ok(['check'])).values()].filter((j) => j.status === 'running').length;

test('qpy-admin and qpy join: users share the daemon’s nodes; a SIGKILLed daemon comes back with nothing lost', {
  timeout: 120_000,
}, async () => {
  // No probes: on this one machine the test's own processes would count as outsiders (see fair-share.test.ts).
  await using mu = testMultiuser({
    nodes: 'n1 address=localhost cores=2 memory=16\nn2 address=localhost cores=2 memory=16\n',
    env: { QPY_PROBE_MS: '0' },
  });
  assert.match(await admin(mu, ['start']), /^qpy-multiuser started \(pid \d+, port \d+, directory /);
  await using alice = await joinedUser(mu, 'alice');
  await using bob = await joinedUser(mu, 'bob');

  // Alice fills the cluster while bob is idle (bob lends his share); bob's jobs then wait for hers to end.
  for (let i = 0; i < 5; i++) await alice.ok(['sub', '-m', '1', 'sleep 300']);
  await waitFor(async () => (await running(alice)) === 4, { what: 'alice runs 4 jobs on 4 cores' });
  const status = await admin(mu, ['status']);
  assert.match(status, /^alice +4 +1 *$/m);
  assert.match(status, /^bob +0 +0 *$/m);
  assert.match(await bob.ok(['status']), /There are 4 out of a total of 4 cores being used\./);

  // SIGKILL the daemon: running jobs go on; submissions are still accepted and wait.
  await mu.kill();
  const away = await bob.qpy(['status']);
  assert.equal(away.code, 1);
  assert.equal(away.stderr, 'qpy: qpy-multiuser is not reachable (queued jobs wait; running jobs go on)\n');
  await bob.ok(['sub', '-m', '1', 'echo from bob']);
  assert.equal(checkStatuses(await bob.ok(['check'])).get(1)?.status, 'queue');
  assert.equal(await running(alice), 4, 'no job killed');
  await alice.ok(['kill', '1', '2']); // two cores free while the daemon is away: its next life must learn it
  await waitFor(async () => (await running(alice)) === 2, { what: 'two of alice’s jobs killed' });

  const back = Date.now();
  assert.match(await admin(mu, ['start']), /started/);
  await waitFor(async () => checkStatuses(await bob.ok(['check'])).get(1)?.status === 'done', {
    what: 'bob’s job runs once the daemon is back',
    timeoutMs: 10_000,
  });
  assert.ok(Date.now() - back < 5000, `bob's job ran ${Date.now() - back} ms after the restart`);
  await waitFor(async () => (await running(alice)) === 3, { what: 'alice’s queued job starts on the freed core' });
  const after = await admin(mu, ['status']);
  assert.match(after, /^alice +3 +0 *$/m, 'the allocation rebuilt exactly');

  // Removed: running jobs finish, new ones wait with a clear reason in the log.
  assert.match(await admin(mu, ['users', 'remove', 'alice']), /^User alice removed \(its running jobs finish; it gets no new ones\)\.$/m);
  assert.equal(await running(alice), 3);
  await alice.ok(['kill', 'all']);
  await waitFor(async () => !/^alice/m.test(await admin(mu, ['status'])), { what: 'alice forgotten once her jobs ended' });
});

test('qpy-admin: clear one-line errors, drain and resume, a bad nodes file kept out', { timeout: 60_000 }, async () => {
  await using mu = testMultiuser({ nodes: 'n1 address=localhost cores=2 memory=16\n' });
  const env = mu.env;
  const notRunning = await run(QPY_ADMIN, ['status'], mu.dir.path, env);
  assert.equal(notRunning.code, 1);
  assert.match(notRunning.stderr, /^qpy-admin: qpy-multiuser is not running \(directory .*\) \(start it with: qpy-admin start\)\n$/);
  await admin(mu, ['start']);
  const twice = await run(QPY_ADMIN, ['start'], mu.dir.path, env);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /^qpy-admin: qpy-multiuser is already running \(pid \d+\)\n$/);
  const doc = JSON.parse(await admin(mu, ['status', '--json'])) as {
    qpy: number;
    nodes: { name: string; cores: number }[];
    users: unknown[];
  };
  assert.deepEqual([doc.qpy, doc.nodes.map((n) => [n.name, n.cores]), doc.users], [1, [['n1', 2]], []]);
  assert.match(await admin(mu, ['drain', 'n1']), /^Node n1 drained/);
  assert.match(await admin(mu, ['status']), /^n1 \(drained\) /m);
  assert.match(await admin(mu, ['resume', 'n1']), /^Node n1 takes jobs again\.$/m);
  const bad = await run(QPY_ADMIN, ['drain', 'nope'], mu.dir.path, env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^qpy-admin: no node nope/);
  const usage = await run(QPY_ADMIN, ['users', 'add'], mu.dir.path, env);
  assert.equal(usage.code, 1);
  assert.equal(usage.stderr.split('\n').length, 2, usage.stderr);
  assert.match(await admin(mu, ['finish']), /^qpy-multiuser stopped\.$/m);
});

test('the limits file: a maximum time given to jobs without -t and refused above, memory limits required, queued jobs refused their slot after a change', {
  timeout: 90_000,
}, async () => {
  await using mu = testMultiuser({ nodes: 'n1 address=localhost cores=2 memory=16\n', env: { QPY_PROBE_MS: '0' } });
  writeFileSync(mu.paths.limits, 'max_time 0:00:03   # short jobs only\nmemory_limits required\n');
  await admin(mu, ['start']);
  await using alice = await joinedUser(mu, 'alice');
  assert.match(await alice.ok(['status']), /^Limits: maximum time 00:00:03; memory limits required\.$/m);
  const over = await alice.qpy(['sub', '-t', '0:00:04', '-m', '1', 'true']);
  assert.deepEqual(
    [over.code, over.stderr],
    [
      1,
      "qpy: job refused: its time limit 00:00:04 is above this cluster's maximum, 00:00:03 (see the nodes and limits with: qpy status)\n",
    ],
  );
  await alice.ok(['config', 'memLimit', 'off']);
  const unlimited = await alice.qpy(['sub', '-m', '1', 'true']);
  assert.match(unlimited.stderr, /^qpy: job refused: memory limits are required on this cluster/);
  await alice.ok(['config', 'memLimit', 'on']);
  // No -t: the maximum, kept by the node agent.
  await alice.ok(['sub', '-m', '1', 'sleep', '300']); // 1
  await waitFor(async () => checkStatuses(await alice.ok(['check'])).get(1)?.status === 'timeout', { what: 'job 1 timeout at 3 s' });
  // A job queued (submission paused) under the old limits is refused its slot once they change.
  await alice.ok(['ctrlQueue', 'pause']);
  await alice.ok(['sub', '-m', '1', '-t', '0:00:03', 'true']); // 2: within the maximum then…
  writeFileSync(mu.paths.limits, 'max_time 0:00:02\n');
  assert.equal(await admin(mu, ['limits']), 'Limits in force: maximum time 00:00:02; memory limits on (users may turn them off).\n');
  await alice.ok(['ctrlQueue', 'continue']);
  await waitFor(async () => /the administrator's limits changed/.test(await alice.ok(['why', '2'])), { what: 'why job 2 waits' });
  assert.equal(checkStatuses(await alice.ok(['check'])).get(2)?.status, 'queue');
  writeFileSync(mu.paths.limits, 'max_time soon\n');
  const bad = await run(QPY_ADMIN, ['limits'], mu.dir.path, mu.env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^qpy-admin: .*limits, line 1: max_time: a time limit is/);
});
