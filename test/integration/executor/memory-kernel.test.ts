/**
 * Memory as the node agent measures it, against the real kernel: a tree of
 * forked processes sharing their pages counts them once (PSS from
 * /proc/PID/smaps_rollup), not once per process as resident pages would;
 * and a job the kernel's OOM killer kills ends `oom`, not as a plain KILL.
 * The OOM killer is made to act, without harm to the machine, inside a
 * cgroup v1 memory group the test makes (root only, where the memory
 * controller is mounted v1: otherwise that test is skipped with the reason).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createTracker } from '../../../src/executor/tracker.js';
import { agentWith } from '../../helpers/agent-settings.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { bare, collect, spec } from './util.js';

const hasPss = existsSync('/proc/self/smaps_rollup');

/** Five bash processes sharing one 40 MB variable (copy on write): 200 MB resident in all, 40 MB proportional. */
const SHARED = `x=$(head -c 40000000 /dev/zero | tr '\\000' a); for i in 1 2 3 4; do (while :; do sleep 1; done) & done; echo ready >ready; wait`;

test('PSS: forked processes sharing their pages count them once, so a limit above the tree PSS does not stop it', {
  skip: !hasPss && 'no /proc/PID/smaps_rollup here',
}, async () => {
  await using tmp = tempDir();
  const ex = createTracker({ nodeName: 'node1', runDir: join(tmp.path, 'run'), transport: agentWith('_q_sn=200000') });
  const { ended } = collect(ex);
  try {
    const job = await ex.launch({ ...spec(1, SHARED, tmp.path), memLimit: { kb: 120_000, graceMs: 500 } });
    await waitFor(() => existsSync(join(tmp.path, 'ready')), { what: 'the shared tree', timeoutMs: 20_000 });
    // Samples every 0.2 s: ten of them at least, any of which would stop it on resident pages (about 200 MB).
    const t0 = Date.now();
    await waitFor(() => Date.now() - t0 > 2_500, { what: 'samples', timeoutMs: 5_000 });
    await ex.kill(1, job.pid, 500);
    const end = await ended(1);
    assert.equal(end.limit, undefined, 'not stopped at its limit');
    const peak = end.usage?.peakKB ?? 0;
    assert.ok(peak > 35_000 && peak < 120_000, `peak ${peak} kB: the shared 40 MB counted about once`);
  } finally {
    await ex.close();
  }
});

test('without PSS (resident pages) the same tree counts its shared pages five times and is stopped', async () => {
  await using tmp = tempDir();
  const ex = createTracker({ nodeName: 'node1', runDir: join(tmp.path, 'run'), transport: agentWith('_q_sn=200000; _q_psi=') });
  const { ended } = collect(ex);
  try {
    await ex.launch({ ...spec(2, SHARED, tmp.path), memLimit: { kb: 120_000, graceMs: 500 } });
    assert.deepEqual(bare(await ended(2, 20_000)), { jobId: 2, outcome: { type: 'signal', signal: 'TERM' }, limit: 'memory' });
  } finally {
    await ex.close();
  }
});

/** A cgroup v1 memory group of this test's own, or why there is none. */
function memoryGroup(): { dir: string } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'needs root, to make a cgroup v1 memory group' };
  const own = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[1]?.split(',').includes('memory'));
  const base = own ? join('/sys/fs/cgroup/memory', own[2] ?? '/') : '';
  if (!own || !existsSync(join(base, 'memory.limit_in_bytes'))) return { skip: 'no cgroup v1 memory controller here' };
  if (!/^oom_kill /m.test(readFileSync('/proc/vmstat', 'utf8'))) return { skip: 'no oom_kill count in /proc/vmstat' };
  return { dir: join(base, `qpy-test-${process.pid}`) };
}

const group = memoryGroup();

test("a job the kernel's OOM killer kills ends `oom`; one KILLed by a person does not", {
  skip: 'skip' in group && group.skip,
}, async () => {
  const { dir } = group as { dir: string };
  mkdirSync(dir);
  await using tmp = tempDir();
  const ex = createTracker({ nodeName: 'node1', runDir: join(tmp.path, 'run'), transport: agentWith('_q_sn=200000') });
  const { ended } = collect(ex);
  try {
    writeFileSync(join(dir, 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
    // The job joins the group, then grows without end (tail keeps a line that never ends): the kernel kills it.
    await ex.launch(spec(3, `echo $$ >${dir}/cgroup.procs && exec tail -n 1 /dev/zero`, tmp.path));
    assert.deepEqual(bare(await ended(3, 20_000)), { jobId: 3, outcome: { type: 'signal', signal: 'KILL' }, limit: 'oom' });
    // Seconds later, a job KILLed from outside is only that.
    const t0 = Date.now();
    await waitFor(() => Date.now() - t0 > 2_500, { what: 'two samples', timeoutMs: 5_000 });
    await ex.launch(spec(4, 'kill -KILL $$', tmp.path));
    assert.deepEqual(bare(await ended(4)), { jobId: 4, outcome: { type: 'signal', signal: 'KILL' } });
  } finally {
    await ex.close();
    await waitFor(
      () => {
        try {
          rmdirSync(dir);
          return true;
        } catch {
          return false;
        }
      },
      { what: 'the test cgroup removed', timeoutMs: 10_000 },
    );
  }
});
