/**
 * bench/agent-cost: what one job costs at this machine's node agent, apart
 * from the master. JOBS `/bin/true` jobs (default 3,000) are run through one
 * run tracker and its local agent, LANES at once (default 8), each lane
 * launching its next job when its last one's end is told: the agent's own
 * CPU per job, its jobs' CPU per job (each child from its fork to its exit:
 * the claim, output files and exec, and `/bin/true` itself), and this
 * process's (the tracker) per job. Beside it, the same number of forks,
 * execs and reaps of `/bin/true` by a plain bash (no claim, no files): the
 * floor under the agent. And what a local agent that is not a shell could
 * reach at best: this process spawns the same jobs (Node's child_process,
 * libuv's fork and exec) with the same file work (a claim created
 * exclusively, the output files, the end appended; no start time, limits or
 * usage). REPS rounds (default 3), the three in turns; medians.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, mkdtempSync, openSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createTracker } from '../src/executor/tracker.js';
import { localTransport } from '../src/executor/local.js';
import { BENCH_BASE, conditions } from './lib.js';
import { cpuMs as cpu, parentOf } from '../test/helpers/procs.js';

const JOBS = Number(process.env['BENCH_JOBS'] ?? 3000);
const LANES = Number(process.env['BENCH_LANES'] ?? 8);
const REPS = Number(process.env['BENCH_REPS'] ?? 3);
const NODE_ROUND = '--node-round';

interface Round {
  rate: number;
  agent: number;
  jobs: number;
  tracker: number;
}

/** Jobs 1…JOBS, LANES at once: each lane runs its next job once its last one has ended. */
async function inLanes(job: (id: number) => Promise<void>): Promise<void> {
  let next = 1;
  const lane = async () => {
    while (next <= JOBS) await job(next++);
  };
  await Promise.all(Array.from({ length: LANES }, lane));
}

async function agentRound(): Promise<Round> {
  const dir = realpathSync(mkdtempSync(join(BENCH_BASE, 'qpy-agent-cost-')));
  const ex = createTracker({ nodeName: 'bench', runDir: join(dir, 'run'), transport: localTransport('auto') });
  const keep = setInterval(() => undefined, 1000);
  const waiting = new Map<number, () => void>();
  ex.onEnded((e) => {
    waiting.get(e.jobId)?.();
    waiting.delete(e.jobId);
    ex.forget(e.jobId);
  });
  try {
    const launch = async (id: number, command = '/bin/true') => {
      const ended = new Promise<void>((r) => waiting.set(id, r));
      const { pid } = await ex.launch({ jobId: id, command, cwd: dir, env: { QPY_JOB_ID: String(id), QPY_TAG: `bench:${id}:1` } });
      return { pid, ended };
    };
    // The agent is up, found as the parent of a job that runs a while.
    const first = await launch(JOBS + 1, 'sleep 0.5');
    const agent = parentOf(first.pid);
    await first.ended;
    const a0 = cpu(agent);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await inLanes(async (id) => (await launch(id)).ended);
    const ms = performance.now() - t0;
    const a1 = cpu(agent);
    const c1 = process.cpuUsage(c0);
    return {
      rate: JOBS / (ms / 1000),
      agent: (a1.own - a0.own) / JOBS,
      jobs: (a1.children - a0.children) / JOBS,
      tracker: (c1.user + c1.system) / 1000 / JOBS,
    };
  } finally {
    clearInterval(keep);
    await ex.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same forks, execs and reaps by a plain bash, LANES at a time: its own CPU and its children's, per job. */
function bashRound(): Round {
  const script = `for ((i=0;i<${JOBS};i++)); do /bin/true & (( i % ${LANES} == ${LANES - 1} )) && wait; done; wait; times`;
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  const secs = [...r.stdout.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  const [su = 0, ss = 0, cu = 0, cs = 0] = secs;
  return { rate: JOBS / (ms / 1000), agent: ((su + ss) * 1000) / JOBS, jobs: ((cu + cs) * 1000) / JOBS, tracker: 0 };
}

/** The same jobs spawned by this process (Node), with a claim, output files and an end record each: parent and children per job. */
async function nodeRound(): Promise<Round> {
  const dir = realpathSync(mkdtempSync(join(BENCH_BASE, 'qpy-agent-cost-node-')));
  const run = (id: number) =>
    new Promise<void>((resolve, reject) => {
      const out = openSync(join(dir, `job_${id}.out`), 'w');
      const err = openSync(join(dir, `job_${id}.err`), 'w');
      const child = spawn('/bin/true', [], {
        cwd: dir,
        detached: true,
        stdio: ['ignore', out, err],
        env: { ...process.env, QPY_JOB_ID: String(id) },
      });
      closeSync(out);
      closeSync(err);
      const claim = openSync(join(dir, `${id}.run`), 'wx');
      writeSync(claim, `${child.pid}\n`);
      closeSync(claim);
      child.on('error', reject);
      child.on('exit', (code) => {
        appendFileSync(join(dir, `${id}.run`), `exit ${code}\n`);
        resolve();
      });
    });
  try {
    const p0 = cpu(process.pid);
    const t0 = performance.now();
    await inLanes(run);
    const ms = performance.now() - t0;
    const p1 = cpu(process.pid);
    return { rate: JOBS / (ms / 1000), agent: (p1.own - p0.own) / JOBS, jobs: (p1.children - p0.children) / JOBS, tracker: 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** nodeRound in a Node process of its own (the agent's exit, reaped here later, must not count as its children's time). */
function nodeRoundApart(): Round {
  const r = spawnSync(process.execPath, [process.argv[1]!, NODE_ROUND], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`the Node round failed (exit ${r.status})`);
  return JSON.parse(r.stdout) as Round;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
if (process.argv[2] === NODE_ROUND) {
  console.log(JSON.stringify(await nodeRound()));
  process.exit(0);
}
console.log(`bench/agent-cost — ${conditions()}`);
console.log(`${JOBS} × /bin/true, ${LANES} at once, ${REPS} round(s) in turns, medians; CPU from /proc (ticks of 10 ms)`);
const rounds: { agent: Round[]; bash: Round[]; node: Round[] } = { agent: [], bash: [], node: [] };
for (let i = 0; i < REPS; i++) {
  rounds.agent.push(await agentRound());
  rounds.bash.push(bashRound());
  rounds.node.push(nodeRoundApart());
}
const row = (name: string, rs: Round[], tracker: boolean) =>
  console.log(
    `${name.padEnd(34)} ${median(rs.map((r) => r.rate))
      .toFixed(0)
      .padStart(6)} jobs/s   parent ${median(rs.map((r) => r.agent)).toFixed(3)} ms   ` +
      `jobs ${median(rs.map((r) => r.jobs)).toFixed(3)} ms${tracker ? `   tracker ${median(rs.map((r) => r.tracker)).toFixed(3)} ms` : ''}   (per job)`,
  );
row('node agent (parent: the agent)', rounds.agent, true);
row('plain bash fork-exec (the floor)', rounds.bash, false);
row('Node spawn, same files (no shell)', rounds.node, false);
