/**
 * bench/limits-sampler: what keeping limits costs a node agent. JOBS
 * `sleep` jobs (default 64) run on this machine's agent, first with no
 * limits, then each with a time and a memory limit (its memory sampled once
 * a second from /proc, its deadline checked at every look); for each phase
 * the agent's own CPU over SECONDS (default 10) is printed, as a share of
 * one core. Target (issue 15): the sampler costs at most 1 % of one core
 * with 64 running jobs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalExecutor } from '../src/executor/local.js';
import type { LaunchSpec } from '../src/executor/executor.js';
import { BENCH_BASE, conditions } from './lib.js';
import { parentOf } from '../test/helpers/procs.js';

const JOBS = Number(process.env['BENCH_JOBS'] ?? 64);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const TICK_MS = 10; // USER_HZ is 100 on Linux

/** The agent's own CPU ticks (not its reaped children's). */
function ownTicks(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function phase(limited: boolean): Promise<number> {
  const dir = mkdtempSync(join(BENCH_BASE, 'qpy-limits-'));
  const ex = createLocalExecutor({ runDir: join(dir, 'run'), nodeName: 'bench' });
  const keep = setInterval(() => undefined, 1000);
  try {
    const pids: number[] = [];
    for (let i = 1; i <= JOBS; i++) {
      const spec: LaunchSpec = { jobId: i, command: 'sleep 3600', cwd: dir, env: { QPY_TAG: `bench:${i}:1` } };
      if (limited) Object.assign(spec, { timeLimit: { seconds: 3600, graceMs: 5000 }, memLimit: { kb: 1_000_000, graceMs: 5000 } });
      pids.push((await ex.launch(spec)).pid);
    }
    const agent = parentOf(pids[0]!);
    await new Promise((r) => setTimeout(r, 2000)); // the launches' own work is over
    const t0 = ownTicks(agent);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const share = ((ownTicks(agent) - t0) * TICK_MS) / (SECONDS * 1000);
    for (const [i, pid] of pids.entries()) await ex.kill(i + 1, pid, 1000);
    return share;
  } finally {
    clearInterval(keep);
    await ex.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`bench/limits-sampler — ${conditions()}`);
console.log(`${JOBS} running jobs on this machine's agent, its own CPU over ${SECONDS} s per phase (ticks of 10 ms)`);
const none = await phase(false);
const limited = await phase(true);
console.log(`no limits:              ${(none * 100).toFixed(2)} % of one core`);
console.log(`time and memory limits: ${(limited * 100).toFixed(2)} % of one core`);
console.log(
  `the limits' cost: ${((limited - none) * 100).toFixed(2)} % of one core (target ≤ 1 %): ${limited - none <= 0.01 ? 'met' : 'NOT met'}`,
);
