/** `qpy sub -W`: submit and wait in one command, ending as `qpy wait` does (real master, local node). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { qpyRunning, qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

test('sub -W: exit 0 once the job ended done, 1 naming it when it did not; arrays wait for every job', { timeout: 60_000 }, async () => {
  await using u = qpyUser();
  assert.deepEqual(await u.qpy(['sub', '-W', '-m', '0', 'true']), {
    code: 0,
    stdout: 'Job 1 received.\nThe job ended done.\n',
    stderr: '',
  });
  assert.deepEqual(await u.qpy(['sub', '--wait', '-m', '0', 'exit 3']), {
    code: 1,
    stdout: 'Job 2 received.\n',
    stderr: 'qpy: 1 of 1 jobs did not end done: 2 (failed)\n',
  });
  assert.deepEqual(await u.qpy(['sub', '-W', '-m', '0', '--array', '1-3', 'exit $((QPY_ARRAY_INDEX == 2))']), {
    code: 1,
    stdout: 'Jobs 3-5 received (array 3).\n',
    stderr: 'qpy: 1 of 3 jobs did not end done: 4 (failed)\n',
  });
  assert.equal(await u.ok(['sub', '-W', '-m', '0', '--array', '2', 'true']), 'Jobs 6-7 received (array 6).\nAll 2 jobs ended done.\n');
  // After the command, -W is the command's own word.
  assert.equal(await u.ok(['sub', '-m', '0', 'echo', '-W']), 'Job 8 received.\n');
});

test('sub -W: blocks while the job runs, and returns when it ends', { timeout: 60_000 }, async () => {
  await using u = qpyUser();
  const p = qpyRunning(u, ['sub', '-W', '-m', '0', 'while [ ! -e go ]; do sleep 0.05; done']);
  await waitFor(async () => /1 \(running\)/.test(await u.ok(['check', '1'])), { what: 'job 1 running' });
  await u.ok(['check']);
  assert.equal(p.exited(), false, 'still waiting while job 1 runs');
  assert.equal(p.out(), 'Job 1 received.\n');
  writeFileSync(join(u.work, 'go'), '');
  assert.equal(await p.code, 0);
  assert.equal(p.out(), 'Job 1 received.\nThe job ended done.\n');
});
