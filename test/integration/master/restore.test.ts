/**
 * Restart repair with a real master over a store left as a crash would leave
 * it: a job committed as running whose launch never happened is queued again
 * (and run once); the same job with a kill pending ends undone; a job whose
 * wrapper runs but whose pid was never recorded is adopted, its pid learnt,
 * and a kill reaches it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { openJobStore } from '../../../src/store/job-store.js';
import { createCommitter } from '../../../src/store/group-commit.js';
import { createLocalExecutor } from '../../../src/executor/local.js';
import type { Job } from '../../../src/protocol/job.js';
import { qpyUser } from '../../helpers/qpy.js';
import { waitFor } from '../../helpers/wait.js';

const running = (id: number, cwd: string, command: string, killRequested = false): Job => ({
  id,
  spec: { command, cwd, cores: 1, memGB: 0.1, attrs: null },
  queuedAt: Date.now(),
  state: { type: 'running', node: 'localhost', startedAt: Date.now(), pid: null, killRequested },
});

test('running jobs without a pid: never started → queued again or undone; started → adopted and killable', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser({ nodes: 'localhost cores=4 memory=32\n' });
  const store = openJobStore(join(u.qpyDir, 'master.db'));
  const c = createCommitter(store, (e) => {
    throw e;
  });
  c.putJob(running(1, u.work, 'echo once >> runs.1'), null);
  c.putJob(running(2, u.work, 'echo never >> runs.2', true), null);
  c.putJob(running(3, u.work, 'echo started >> runs.3; sleep 3003'), null);
  c.setMeta('next_id', '4');
  await c.flush();
  store.close();
  // Job 3's wrapper really started (by an executor of a "previous life"), but its pid never reached the store.
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(u.qpyDir, 'run'), { recursive: true, mode: 0o700 });
  const previous = createLocalExecutor({ runDir: join(u.qpyDir, 'run'), nodeName: 'localhost' });
  await previous.launch({ jobId: 3, command: 'echo started >> runs.3; sleep 3003', cwd: u.work, env: { QPY_JOB_ID: '3' } });
  await waitFor(() => readFileSync(join(u.work, 'runs.3'), 'utf8') === 'started\n', { what: 'job 3 started' });
  await previous.close();

  const out = await waitFor(
    async () => {
      const s = await u.ok(['check']);
      return /^1 \(done\)/m.test(s) ? s : null;
    },
    { what: 'job 1 requeued and done' },
  );
  assert.match(out, /^2 \(undone\)/m);
  assert.match(out, /^3 \(running\)/m);
  assert.equal(readFileSync(join(u.work, 'runs.1'), 'utf8'), 'once\n');
  assert.throws(() => readFileSync(join(u.work, 'runs.2')));
  assert.equal(await u.ok(['kill', '3']), '1 job will be killed.\n');
  await waitFor(async () => /^3 \(killed\)/m.test(await u.ok(['check'])), { what: 'job 3 killed' });
  const { execFileSync } = await import('node:child_process');
  assert.doesNotMatch(execFileSync('ps', ['-eo', 'args']).toString(), /sleep 3003/);
});
