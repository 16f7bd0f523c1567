/**
 * The probe script run for real on this machine: it lists a live process
 * carrying a job wrapper's tag, and the jobs a node agent lists in its
 * marker; it counts a busy job as qpy's own (not an outsider), and a busy
 * untagged process as an outsider.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { parseProbe, probeCommand } from '../../../src/executor/node-probe.js';
import { join } from 'node:path';
import { createLocalExecutor } from '../../../src/executor/local.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { killGroup } from '../../helpers/procs.js';

const run = promisify(execFile);
const probe = async () => parseProbe((await run('/bin/sh', ['-c', probeCommand(null)])).stdout)!;

test('a tagged busy job is listed and counted as qpy’s; an untagged busy process is an outsider', { timeout: 60_000 }, async () => {
  // Like a wrapper: in a process group of its own, the tag among its arguments; it spins.
  const job = spawn('/bin/sh', ['-c', 'while :; do :; done', 'qpy-job', 'QPY_TAG=alice:12:1'], { detached: true, stdio: 'ignore' });
  const other = spawn('/bin/sh', ['-c', 'while :; do :; done', 'spinner'], { detached: true, stdio: 'ignore' });
  try {
    const r = await waitFor(
      async () => {
        const p = await probe();
        return p.tags?.some((t) => t.pid === job.pid) && (p.busy ?? 0) - (p.outsiders ?? 0) >= 1 && (p.outsiders ?? 0) >= 1 ? p : null;
      },
      { what: 'the tagged job listed and counted as ours, the spinner as an outsider', timeoutMs: 30_000 },
    );
    assert.deepEqual(
      r.tags!.find((t) => t.pid === job.pid),
      { pid: job.pid, user: 'alice', jobId: 12, attempt: 1 },
    );
  } finally {
    killGroup(job.pid);
    killGroup(other.pid);
  }
});

test('jobs of a waiting node agent are listed through its marker, by process group, and their busy processes are qpy’s', {
  timeout: 60_000,
}, async () => {
  await using tmp = tempDir();
  const ex = createLocalExecutor({ runDir: join(tmp.path, 'run'), nodeName: 'n1' });
  const ended = new Set<number>();
  ex.onEnded((e) => ended.add(e.jobId));
  try {
    // A plain command (exec'd directly: no wrapper carries its tag) and a shell line that spins; the
    // tag among other variables (a master puts a time limit's and the GPUs' after it).
    const env = { QPY_TAG: 'bob:21:1', QPY_TIME_LIMIT: '600', CUDA_VISIBLE_DEVICES: '' };
    const sleeper = await ex.launch({ jobId: 21, command: 'sleep 300', cwd: tmp.path, env });
    const spinner = await ex.launch({ jobId: 22, command: 'while :; do :; done', cwd: tmp.path, env: { QPY_TAG: 'bob:22:2' } });
    const r = await waitFor(
      async () => {
        const p = await probe();
        const mine = (p.tags ?? []).filter((t) => t.user === 'bob');
        return mine.some((t) => t.jobId === 21) && mine.some((t) => t.jobId === 22) && (p.busy ?? 0) > (p.outsiders ?? 0) ? p : null;
      },
      { what: 'both jobs listed by the marker, the spinner counted as ours', timeoutMs: 30_000 },
    );
    assert.deepEqual(
      r.tags!.find((t) => t.jobId === 21),
      { pid: sleeper.pid, user: 'bob', jobId: 21, attempt: 1 },
    );
    assert.deepEqual(
      r.tags!.find((t) => t.jobId === 22),
      { pid: spinner.pid, user: 'bob', jobId: 22, attempt: 2 },
    );
    // Ended jobs leave the list within a few seconds (the marker is made again, the old one closed).
    await ex.kill(21, sleeper.pid, 1_000);
    await ex.kill(22, spinner.pid, 1_000);
    await waitFor(async () => ended.size === 2 && !(await probe()).tags?.some((t) => t.user === 'bob'), {
      what: 'the ended jobs gone from the lists',
      timeoutMs: 10_000,
    });
  } finally {
    await ex.close();
  }
});
