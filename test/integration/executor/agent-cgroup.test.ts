/**
 * The node agent's cgroup v2 memory limits (agent-cgroup.ts), their file
 * work: which groups it makes, what it writes, how it reads an OOM kill. The
 * machines these tests run on mount the memory controller as cgroup v1, so
 * no real v2 subtree with memory can be had here: the agent is pointed
 * (`_q_cgr`) at a directory laid out as a delegated v2 subtree, and the
 * kernel's part (keeping the limit, counting the kill) is played by the
 * test. The kernel's OOM killer itself is tested for real in
 * memory-kernel.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createTracker } from '../../../src/executor/tracker.js';
import { agentWith } from '../../helpers/agent-settings.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { bare, collect, spec } from './util.js';
import { killGroup } from '../../helpers/procs.js';

/** A directory laid out as the cgroup2 mount, with the agent's own cgroup (this process's) delegated. */
function fakeCgroupRoot(root: string, controllers: string): string {
  const own = /^0::(\/.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
  const dir = join(root, own);
  mkdirSync(dir, { recursive: true });
  for (const f of ['cgroup.procs', 'cgroup.subtree_control']) writeFileSync(join(dir, f), '');
  writeFileSync(join(dir, 'cgroup.controllers'), `${controllers}\n`);
  return dir;
}

const read = (path: string): string => readFileSync(path, 'utf8').trim();

test('a delegated cgroup v2 subtree: the agent moves to a leaf, and each job with a memory limit gets a group of its own', async () => {
  await using tmp = tempDir();
  const root = join(tmp.path, 'cg');
  const dir = fakeCgroupRoot(root, 'cpu memory pids');
  const ex = createTracker({
    nodeName: 'node1',
    runDir: join(tmp.path, 'run'),
    transport: agentWith(`_q_cgr=${root}; _q_cgi && _QK=cgroup; _q_sn=200000`),
  });
  const { ended } = collect(ex);
  try {
    const job = await ex.launch({ ...spec(1, 'sleep 300', tmp.path), memLimit: { kb: 50_000, graceMs: 500 } });
    assert.equal(read(join(dir, 'cgroup.subtree_control')), '+memory', 'the memory controller given to its children');
    assert.match(read(join(dir, 'qpy-agent', 'cgroup.procs')), /^[0-9]+$/, 'the agent in a leaf of its own');
    const group = join(dir, 'job-1');
    await waitFor(() => existsSync(join(group, 'cgroup.procs')), { what: "the job's joining its group" });
    assert.deepEqual(
      ['memory.max', 'memory.swap.max', 'memory.oom.group', 'cgroup.procs'].map((f) => read(join(group, f))),
      [String(50_000 * 1024), '0', '1', String(job.pid)],
    );
    // The kernel's part: an OOM kill within the group, the job KILLed.
    writeFileSync(join(group, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 1\n');
    killGroup(job.pid);
    assert.deepEqual(bare(await ended(1)), { jobId: 1, outcome: { type: 'signal', signal: 'KILL' }, limit: 'cgroup' });
    // No memory limit, no group; a group whose job ended by itself reads no limit, with no memory.events at all.
    await ex.launch(spec(2, 'exit 3', tmp.path));
    assert.deepEqual(bare(await ended(2)), { jobId: 2, outcome: { type: 'exit', code: 3 } });
    assert.equal(existsSync(join(dir, 'job-2')), false);
    await ex.launch({ ...spec(3, 'exit 0', tmp.path), memLimit: { kb: 50_000, graceMs: 500 } });
    assert.deepEqual(bare(await ended(3)), { jobId: 3, outcome: { type: 'exit', code: 0 } });
    assert.equal(existsSync(join(dir, 'job-3', 'memory.max')), true);
  } finally {
    await ex.close();
  }
});

test('a subtree without the memory controller is not used: limits are kept by sampling', async () => {
  await using tmp = tempDir();
  const root = join(tmp.path, 'cg');
  const dir = fakeCgroupRoot(root, 'cpu pids');
  const ex = createTracker({
    nodeName: 'node1',
    runDir: join(tmp.path, 'run'),
    transport: agentWith(`_q_cgr=${root}; _q_cgi && _QK=cgroup`),
  });
  const { ended } = collect(ex);
  try {
    await ex.launch({ ...spec(1, 'exit 0', tmp.path), memLimit: { kb: 50_000, graceMs: 500 } });
    assert.deepEqual(bare(await ended(1)), { jobId: 1, outcome: { type: 'exit', code: 0 } });
    assert.deepEqual(
      [existsSync(join(dir, 'qpy-agent')), existsSync(join(dir, 'job-1')), read(join(dir, 'cgroup.subtree_control'))],
      [false, false, ''],
    );
  } finally {
    await ex.close();
  }
});
