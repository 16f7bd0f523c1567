/**
 * The probe script run for real on this machine: it lists a live process
 * carrying a job wrapper's tag, counts a busy tagged job as qpy's own (not
 * an outsider), and counts a busy untagged process as an outsider.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { parseProbe, probeCommand } from '../../../src/executor/node-probe.js';
import { waitFor } from '../../helpers/wait.js';

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
    process.kill(-job.pid!, 'SIGKILL');
    process.kill(-other.pid!, 'SIGKILL');
  }
});
