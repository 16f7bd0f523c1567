/** `qpy wait`, `qpy follow` and `qpy why` through the installed CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QPY, qpyRunning, qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

test('wait: blocks until the jobs are final, exit 1 naming those that did not end done', { timeout: 60_000 }, async () => {
  await using u = qpyUser();
  await u.ok(['sub', 'true']); // 1
  await u.ok(['sub', 'exit 4']); // 2
  await u.ok(['sub', 'while [ ! -e go ]; do sleep 0.05; done']); // 3
  const r12 = await u.qpy(['wait', '1-2']);
  assert.deepEqual([r12.code, r12.stderr], [1, 'qpy: 1 of 2 jobs did not end done: 2 (failed)\n']);
  const p = qpyRunning(u, ['wait', '3']);
  // Job 3 seen running (several check round trips after the wait was sent): the wait must still be blocked.
  await waitFor(async () => /3 \(running\)/.test(await u.ok(['check', '3'])), { what: 'job 3 running' });
  await u.ok(['check']);
  assert.equal(p.exited(), false, 'still waiting while job 3 runs');
  writeFileSync(join(u.work, 'go'), '');
  assert.equal(await p.code, 0);
  assert.equal(p.out(), 'The job ended done.\n');
  assert.equal(await u.ok(['wait', '1', '3']), 'All 2 jobs ended done.\n');
});

test('follow: prints the output as it is written and stops when the job ends', { timeout: 60_000 }, async () => {
  await using u = qpyUser();
  await u.ok(['sub', 'echo one; while [ ! -e go ]; do sleep 0.05; done; echo two; echo três']);
  const p = spawn(QPY, ['follow', '1'], { env: u.env, cwd: u.work });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  const code = new Promise<number | null>((r) => p.on('exit', r));
  await waitFor(() => out === 'one\n', { what: 'the first line, while the job still runs', timeoutMs: 5000 });
  const t = Date.now();
  writeFileSync(join(u.work, 'go'), '');
  await waitFor(() => out === 'one\ntwo\ntrês\n', { what: 'the rest', timeoutMs: 5000 });
  assert.ok(Date.now() - t < 1500, 'within a second or so of being written');
  assert.equal(await code, 0);
});

test('why: paused, held, waiting for a dependency, no room, no node able to run it, about to start, not waiting', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser({ nodes: 'one address=localhost cores=1 memory=16 attributes=big\n' });
  await u.ok(['sub', '-m', '1', 'while [ ! -e go ]; do sleep 0.05; done']); // 1 runs
  await waitFor(async () => /1 \(running\)/.test(await u.ok(['check'])), { what: 'job 1 running' });
  await u.ok(['sub', '-m', '1', 'true']); // 2: no room
  await u.ok(['sub', '-m', '1', '--after', '1', 'true']); // 3: waits for 1
  await u.ok(['sub', '-m', '1', 'true']); // 4: held
  await u.ok(['hold', '4']);
  await waitFor(async () => /share of the cluster is in use|No node can take/.test(await u.ok(['why', '2'])), {
    what: 'job 2 refused once',
  });
  assert.match(
    await u.ok(['why', '2']),
    /^Your share of the cluster is in use, and no idle user has cores to lend: job 2 \(1 core and 1 GB\) starts as cores are freed\.\n$/,
  );
  assert.equal(await u.ok(['why', '3']), 'Job 3 waits for job 1 to end.\n');
  assert.equal(await u.ok(['why', '4']), 'Job 4 is held: it starts only after qpy release 4.\n');
  assert.equal(await u.ok(['why', '1']), 'Job 1 is not waiting: it is running.\n');
  // Jobs that fit when submitted, and no longer once the node changed.
  await u.ok(['sub', '-m', '1', '-a', 'big', 'true']); // 5
  await u.ok(['sub', '-m', '12', 'true']); // 6
  writeFileSync(join(u.qpyDir, 'nodes'), 'one address=localhost cores=1 memory=8\n');
  await u.ok(['restart']);
  assert.match(await u.ok(['why', '5']), /^No node can ever run job 5: .*big.*\. Kill it, or submit it again with less\.\n$/);
  assert.match(await u.ok(['why', '6']), /^No node can ever run job 6: .*memory.*\. Kill it, or submit it again with less\.\n$/);
  await u.ok(['kill', '5', '6']);
  await u.ok(['ctrlQueue', 'pause']);
  assert.equal(await u.ok(['why', '2']), 'Job submission is paused: no queued job starts until you run qpy ctrlQueue continue.\n');
  const none = await u.qpy(['why', '99']);
  assert.deepEqual([none.code, none.stderr], [1, 'qpy: No job 99. (see your jobs with: qpy check)\n']);
  await u.ok(['ctrlQueue', 'continue']);
  writeFileSync(join(u.work, 'go'), '');
  await u.ok(['release', '4']);
  await u.ok(['wait', '1-4']);
});
