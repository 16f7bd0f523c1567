/**
 * The executor conformance suite's part on measured usage (run from
 * conformance-local.test.ts and conformance-ssh.test.ts beside conformance()):
 * CPU time of a busy loop and of a sleep, the peak memory of a job that
 * holds about 60 MB, and usage read back on adoption, with the agent under
 * bash (which samples) and under a POSIX sh (whose wrappers keep `times`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Executor, JobEnded } from '../../../src/executor/executor.js';
import type { AgentShell } from '../../../src/executor/agent-script.js';
import { timesMs, TIMES_FIGURE } from '../../../src/executor/wrapper.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';
import { collect, spec } from './util.js';
import type { TransportUnderTest } from './conformance.js';

/** A loop that keeps one core busy for `s` seconds, then prints its CPU time as `times` does. */
const busy = (s: number) => `timeout ${s} sh -c 'while :; do :; done'; times`;

/** User + system ms of the job's children, as the job itself printed them (`times`, second line). */
function ownCpuMs(dir: string, jobId: number): number {
  const line = readFileSync(join(dir, `job_${jobId}.out`), 'utf8').split('\n')[1] ?? '';
  const m = new RegExp(`^${TIMES_FIGURE} ${TIMES_FIGURE}$`).exec(line);
  assert.ok(m, `the job's own times: ${JSON.stringify(line)}`);
  return timesMs(m[1]!, m[2]!, m[3]) + timesMs(m[4]!, m[5]!, m[6]);
}

const cpuMs = (e: JobEnded): number => {
  assert.ok(e.usage, `job ${e.jobId} has its usage`);
  return e.usage.userMs + e.usage.sysMs;
};

/** Within 10 % (and a clock tick) of `expected`. */
function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * 0.1 + 10, `${what}: ${actual} ms, expected ${Math.round(expected)} ms ± 10 %`);
}

export function usageConformance(tr: TransportUnderTest): void {
  const open: Executor[] = [];
  const make = (runDir: string, agentShell: AgentShell) => {
    const ex = tr.executor(runDir, { pollMs: 50, agentShell });
    open.push(ex);
    return { ex, ...collect(ex) };
  };
  const closeAll = () => Promise.all(open.splice(0).map((ex) => ex.close()));

  for (const agentShell of ['auto', 'sh'] as const) {
    const name = (what: string) => `${tr.name}, ${agentShell} agent: ${what}`;

    test(name('usage: a busy loop’s CPU time is its wall time, a sleep’s is none, a 60 MB job’s peak'), { skip: tr.skip }, async (t) => {
      await using tmp = tempDir();
      const { ex, ended } = make(join(tmp.path, 'run'), agentShell);
      // They end apart: a sleep at 0.6 s, the loop at 1.5 s, the memory at about 2.2 s.
      const t0 = performance.now();
      await ex.launch(spec(1, busy(1.5), tmp.path));
      await ex.launch(spec(2, 'sleep 0.6', tmp.path));
      // tail holds the last 60 MB it read until its input ends, 2 s after head's last byte.
      await ex.launch(spec(3, '{ head -c 60M /dev/zero; sleep 2; } | tail -c 60M >/dev/null', tmp.path));
      const sleeper = await ended(2);
      assert.ok(cpuMs(sleeper) <= 30, `a sleep used ${cpuMs(sleeper)} ms of CPU`);
      const loop = await ended(1);
      const wall = performance.now() - t0;
      const own = ownCpuMs(tmp.path, 1);
      near(cpuMs(loop), own, 'the busy loop’s CPU time against its own `times`');
      // A loop that had a core to itself used its wall time × 1 core; on a machine too busy to give it
      // one (other work on it), it did not, and its own `times` above is what holds.
      if (own >= wall * 0.9) near(cpuMs(loop), wall, 'the busy loop’s CPU time against its wall time × 1 core');
      else t.diagnostic(`the machine was busy: the loop had ${Math.round((own / wall) * 100)} % of a core`);
      const mem = await ended(3, 15_000);
      if (agentShell === 'sh') assert.equal(mem.usage?.peakKB, undefined, 'a wrapper samples nothing');
      else {
        const mb = (mem.usage?.peakKB ?? 0) / 1024;
        assert.ok(mb >= 50 && mb <= 80, `peak ${mb.toFixed(1)} MB for a job that holds 60 MB`);
        assert.ok((loop.usage?.peakKB ?? 0) > 0, 'the loop was sampled too');
      }
      await closeAll();
    });

    test(name('usage: read back on adoption after the master’s executor has gone'), { skip: tr.skip }, async () => {
      await using tmp = tempDir();
      const runDir = join(tmp.path, 'run');
      const first = make(runDir, agentShell);
      const { pid } = await first.ex.launch(spec(4, busy(1), tmp.path));
      await first.ex.close(); // the master "dies": the job goes on, its end is recorded in its run file
      await waitFor(() => readFileSync(join(runDir, '4.run'), 'utf8').includes('exit 0'), { what: 'the job over', timeoutMs: 15_000 });
      const second = make(runDir, agentShell);
      assert.equal(await second.ex.adopt(4, pid), 'ended');
      const e = await second.ended(4);
      near(cpuMs(e), ownCpuMs(tmp.path, 4), 'CPU time read back');
      assert.ok(cpuMs(e) > 0, 'a busy loop used some');
      await closeAll();
    });
  }
}
