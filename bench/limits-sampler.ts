/**
 * bench/limits-sampler: what sampling usage and keeping limits cost a node
 * agent. JOBS `sleep` jobs (default 64) run on this machine's agent in three
 * phases: with no sampling at all (`_q_smp=0`, sent to the agent only here:
 * the baseline), with usage sampled (every job's CPU time and memory once a
 * second from /proc, as always), and with usage sampled and each job under a
 * time and a memory limit. For each phase the agent's own CPU over SECONDS
 * (default 10) is printed, as a share of one core. Target (issue 15): the
 * sampler costs at most 1 % of one core with 64 running jobs.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTracker } from '../src/executor/tracker.js';
import { localTransport } from '../src/executor/local.js';
import { agentWith } from '../test/helpers/agent-settings.js';
import type { LaunchSpec } from '../src/executor/executor.js';
import { BENCH_BASE, conditions } from './lib.js';
import { cpuMs, parentOf } from '../test/helpers/procs.js';

const JOBS = Number(process.env['BENCH_JOBS'] ?? 64);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);

type Phase = 'none' | 'usage' | 'limits';

async function phase(what: Phase): Promise<number> {
  const dir = realpathSync(mkdtempSync(join(BENCH_BASE, 'qpy-limits-')));
  const transport = what === 'none' ? agentWith('_q_smp=0') : localTransport('auto');
  const ex = createTracker({ nodeName: 'bench', runDir: join(dir, 'run'), transport });
  const keep = setInterval(() => undefined, 1000);
  try {
    const pids: number[] = [];
    for (let i = 1; i <= JOBS; i++) {
      const spec: LaunchSpec = { jobId: i, command: 'sleep 3600', cwd: dir, env: { QPY_TAG: `bench:${i}:1` } };
      if (what === 'limits')
        Object.assign(spec, { timeLimit: { seconds: 3600, graceMs: 5000 }, memLimit: { kb: 1_000_000, graceMs: 5000 } });
      pids.push((await ex.launch(spec)).pid);
    }
    const agent = parentOf(pids[0]!);
    await new Promise((r) => setTimeout(r, 2000)); // the launches' own work is over
    const t0 = cpuMs(agent).own;
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const share = (cpuMs(agent).own - t0) / (SECONDS * 1000);
    for (const [i, pid] of pids.entries()) await ex.kill(i + 1, pid, 1000);
    return share;
  } finally {
    clearInterval(keep);
    await ex.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const pct = (x: number) => `${(x * 100).toFixed(2)} % of one core`;
console.log(`bench/limits-sampler — ${conditions()}`);
console.log(`${JOBS} running jobs on this machine's agent, its own CPU over ${SECONDS} s per phase (ticks of 10 ms)`);
const none = await phase('none');
const usage = await phase('usage');
const limits = await phase('limits');
console.log(`no sampling (baseline):            ${pct(none)}`);
console.log(`usage sampled:                     ${pct(usage)}`);
console.log(`usage sampled, time and memory limits: ${pct(limits)}`);
console.log(`usage sampling's cost: ${pct(usage - none)}`);
console.log(`the sampler's cost, usage and limits: ${pct(limits - none)} (target ≤ 1 %): ${limits - none <= 0.01 ? 'met' : 'NOT met'}`);
