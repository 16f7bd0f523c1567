/**
 * Batched launches (launcher.ts, launch-batch.ts) with real shells: both ways
 * a batch shell can give each wrapper its own process group (bash job
 * control; sh + setsid), ends notified on the batch pipe, and the fallbacks
 * when a wrapper dies without notifying.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalExecutor } from '../../../src/executor/local.js';
import type { BatchMode } from '../../../src/executor/launch-batch.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { collect, groupMembers, spec } from './util.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const MODES: BatchMode[] = (['bash', 'setsid'] as const).filter((m) => has(m));

/** Process group and session of a live process, from /proc. */
function groupAndSession(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[2]), Number(f[3])];
}

function setup(dir: string, batchMode: BatchMode) {
  const ex = createLocalExecutor({ runDir: join(dir, 'run'), nodeName: 'node1', pollMs: 50, batchMode, launchedPollAfterMs: 300 });
  return { ex, ...collect(ex) };
}

for (const mode of MODES) {
  test(`${mode}: jobs launched together each get their own process group, outside the master's session`, async () => {
    await using tmp = tempDir();
    const { ex, ended } = setup(tmp.path, mode);
    const ids = Array.from({ length: 20 }, (_, i) => 100 + i);
    const pids = (await Promise.all(ids.map((id) => ex.launch(spec(id, 'sleep 0.5; echo "$QPY_JOB_ID"', tmp.path))))).map((r) => r.pid);
    assert.equal(new Set(pids).size, 20);
    const [, mySession] = groupAndSession(process.pid);
    for (const pid of pids) {
      // With setsid the start is reported just before the new session exists.
      const [pgrp, session] = await waitFor(
        () => {
          const gs = groupAndSession(pid);
          return gs[0] === pid ? gs : null;
        },
        { what: `process group of ${pid}` },
      );
      assert.equal(pgrp, pid, 'the wrapper leads its own process group');
      assert.notEqual(session, mySession, 'jobs are detached from the master');
    }
    for (const id of ids) {
      assert.deepEqual((await ended(id)).outcome, { type: 'exit', code: 0 });
      assert.equal(readFileSync(join(tmp.path, `job_${id}.out`), 'utf8'), `${id}\n`);
    }
    await ex.close();
  });

  test(`${mode}: killing one job of a batch ends it at once and leaves its siblings running`, async () => {
    await using tmp = tempDir();
    const { ex, ended, ends } = setup(tmp.path, mode);
    const [a, b] = await Promise.all([ex.launch(spec(1, 'sleep 300', tmp.path)), ex.launch(spec(2, 'sleep 300', tmp.path))]);
    await waitFor(() => groupMembers(a!.pid).length >= 2, { what: 'job 1 running' });
    // Through setsid a job is reported a moment before its group exists: wait for job 2's too.
    await waitFor(() => groupMembers(b!.pid).length >= 2, { what: 'job 2 running' });
    await ex.kill(1, a!.pid, 2_000);
    assert.deepEqual((await ended(1)).outcome, { type: 'signal', signal: 'TERM' });
    assert.equal(ends.has(2), false);
    assert.notDeepEqual(groupMembers(b!.pid), []);
    await ex.kill(2, b!.pid, 2_000);
    assert.deepEqual((await ended(2)).outcome, { type: 'signal', signal: 'TERM' });
    await ex.close();
  });

  test(`${mode}: a wrapper SIGKILLed behind the master's back is reported while its batch goes on`, async () => {
    await using tmp = tempDir();
    const { ex, ended, ends } = setup(tmp.path, mode);
    const [a, b] = await Promise.all([ex.launch(spec(3, 'sleep 300', tmp.path)), ex.launch(spec(4, 'sleep 300', tmp.path))]);
    await waitFor(() => groupMembers(a!.pid).length >= 2, { what: 'job 3 running' });
    process.kill(a!.pid, 'SIGKILL'); // the wrapper only: it cannot record or notify anything
    // bash reaps and reports the wait status; sh cannot, and the poll finds it dead.
    assert.deepEqual((await ended(3)).outcome, mode === 'bash' ? { type: 'signal', signal: 'KILL' } : { type: 'lost' });
    assert.equal(ends.has(4), false);
    process.kill(-a!.pid, 'SIGKILL'); // the orphaned command
    await ex.kill(4, b!.pid, 2_000);
    await ended(4);
    await ex.close();
  });
}

test('launches asked for together share batch shells: 300 jobs in one turn', async () => {
  await using tmp = tempDir();
  const { ex, ends } = setup(tmp.path, MODES[0]!);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 300 }, (_, i) => ex.launch(spec(2000 + i, 'true', tmp.path))));
  await waitFor(() => ends.size === 300, { timeoutMs: 30_000, what: '300 ends', intervalMs: 5 });
  const ms = performance.now() - t0;
  for (const [, list] of ends)
    assert.deepEqual(
      list.map((e) => e.outcome),
      [{ type: 'exit', code: 0 }],
    );
  console.log(`# 300 true jobs launched in one turn and ended in ${ms.toFixed(0)} ms (${((300 / ms) * 1000).toFixed(0)} jobs/s)`);
  await ex.close();
});
