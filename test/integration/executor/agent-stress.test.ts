/**
 * The local agent under load: thousands of short jobs in 8 lanes, with the
 * agent told to sample every job at every sweep (`_q_sn=0`, agent-waiter.ts)
 * instead of once a second, so that jobs often end while it reads their
 * /proc files. A read of /proc/PID/status cut short (`mapfile -n 1`) once
 * left the rest of that file in bash's input buffer when the job was reaped
 * meanwhile, and the next frame's `read -N` took it instead of the launch
 * it carried: the launch was lost (1 in 650 jobs here, in 8 lanes). Every
 * launch must answer, and every job end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTracker } from '../../../src/executor/tracker.js';
import { agentWith } from '../../helpers/agent-settings.js';
import type { Executor } from '../../../src/executor/executor.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { spec } from './util.js';

const JOBS = 3000;
const LANES = 8;
/** A launch or an end not seen within this long is lost (each takes about 1 ms). */
const DEADLINE_MS = 5000;

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function lanes(ex: Executor, cwd: string): Promise<number> {
  const waiting = new Map<number, () => void>();
  ex.onEnded((e) => {
    waiting.get(e.jobId)?.();
    waiting.delete(e.jobId);
    ex.forget(e.jobId);
  });
  let next = 1;
  let done = 0;
  const lane = async () => {
    while (next <= JOBS) {
      const id = next++;
      const ended = new Promise<void>((r) => waiting.set(id, r));
      await within(ex.launch(spec(id, '/bin/true', cwd, { QPY_TAG: `me:${id}:1` })), `launch of job ${id}`);
      await within(ended, `end of job ${id}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  return done;
}

test(`${JOBS} short jobs in ${LANES} lanes, sampled at every sweep: no launch is lost`, async () => {
  await using tmp = tempDir();
  const ex = createTracker({ nodeName: 'node1', runDir: join(tmp.path, 'run'), transport: agentWith('_q_sn=0') });
  try {
    assert.equal(await lanes(ex, tmp.path), JOBS);
  } finally {
    await ex.close();
  }
});

test('an agent on a node without /proc (reads of it fail) never takes a live job for gone: ends come at once beside a long job', async () => {
  await using tmp = tempDir();
  // What the agent sees where /proc cannot be read; `_QK=none` is what its start-up finds there.
  const noProc = '_q_stat() { return 1; }; _q_state() { return 1; }; _QK=none; _q_sn=0';
  const ex = createTracker({ nodeName: 'node1', runDir: join(tmp.path, 'run'), transport: agentWith(noProc) });
  const ends = new Map<number, { at: number; code: number | null }>();
  ex.onEnded((e) => ends.set(e.jobId, { at: Date.now(), code: e.outcome.type === 'exit' ? e.outcome.code : null }));
  try {
    await ex.launch(spec(1, 'sleep 3', tmp.path));
    for (let id = 2; id <= 6; id++) {
      const started = Date.now();
      await ex.launch(spec(id, `exit ${id}`, tmp.path));
      await waitFor(() => ends.has(id), { what: `end of job ${id}`, timeoutMs: 2000 });
      assert.ok(ends.get(id)!.at - started < 1500, `job ${id} ended ${ends.get(id)!.at - started} ms after its launch`);
      assert.equal(ends.get(id)!.code, id);
    }
    assert.equal(ends.has(1), false, 'the long job still runs');
  } finally {
    await ex.close();
  }
});
