/**
 * bench/slurm-pool (issue 18): the same JOBS `true` jobs (default 1,000) run
 * as plain Slurm (one `sbatch --array`) and through a qpy pool on that Slurm
 * (a user's own `pool` line: one pilot of all the node's CPUs, reached over SSH, then the same reached through its pilot, reach=agent;
 * `qpy sub --array`), in turns, on the tests' real one-node Slurm
 * (test/helpers/slurm.ts) and one loopback sshd node named as the Slurm node
 * (as test/e2e/slurm-pool.test.ts does). For each: jobs/s from submission to
 * the last end (the pool's includes its pilot's start) and from the first
 * job's start, and the Slurm RPCs spent (`sdiag --reset` before, `sdiag`
 * after: its by-message-type counts, less the bench's own `sdiag` polls,
 * which tell it when plain Slurm's jobs have ended: "Jobs completed"
 * reaches JOBS as squeue lists none left, without squeue's own RPCs).
 * Slurm's commands the pool runner ran are counted by wrappers first on its
 * PATH. The pool polls squeue at its default rate (QPY_POOL_POLL_MS, 10 s):
 * a pilot not yet RUNNING at the squeue right after its sbatch is seen up to
 * 10 s later, which the pool's first-start time then shows.
 * Knobs: BENCH_JOBS, BENCH_CPUS (the Slurm node's, default 8), BENCH_REPS
 * (default 1). Needs root, Slurm and sshd.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { procTable } from '../test/helpers/procs.js';
import { runCommand, slurmMissing, startSlurm, type Slurm, sshConfigForNode } from '../test/helpers/slurm.js';
import { SSHD, startCluster } from '../test/helpers/sshd-cluster.js';
import { benchUser, BENCH_BASE, conditions, type BenchUser } from './lib.js';
import { jobCount, parseSdiag, topTypes, workloadRpcs, type Sdiag } from './sdiag.js';

const JOBS = Number(process.env['BENCH_JOBS'] ?? 1000);
const CPUS = Number(process.env['BENCH_CPUS'] ?? 8);
const REPS = Number(process.env['BENCH_REPS'] ?? 1);
/** A pilot idle this long (minutes) ends: between repetitions the pool starts bare again. */
const IDLE_MIN = 0.1;
const DEADLINE_MS = 600_000;

interface Row {
  /** Jobs/s from submission to the last end. */
  rate: number;
  /** Jobs/s from the first job's start to the last end. */
  fromStart: number;
  /** Seconds from submission to the first job's start. */
  firstStartS: number;
  rpcs: number;
  byType: [string, number][];
  /** Slurm commands run by the pool runner (pool rows only). */
  commands?: Record<string, number>;
  /** RPCs until the idle pilot had ended too (pool rows only). */
  rpcsToPilotEnd?: number;
}

const why = slurmMissing() ?? (SSHD === null ? 'sshd is not installed' : null);
if (why !== null) {
  console.log(`bench/slurm-pool: ${why}; not run`);
  process.exit(0);
}

const sdiag = async (slurm: Slurm): Promise<Sdiag> => parseSdiag(await slurm.run('sdiag', []));

/** Poll `sdiag` (its RPCs are left out of the figures) until `done`. */
async function untilSdiag(slurm: Slurm, what: string, done: (s: Sdiag) => boolean, each?: (s: Sdiag) => void): Promise<Sdiag> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const s = await sdiag(slurm);
    each?.(s);
    if (done(s)) return s;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${DEADLINE_MS / 1000} s`);
    await delay(50);
  }
}

async function plain(slurm: Slurm, script: string): Promise<Row> {
  await slurm.run('sdiag', ['--reset']);
  const t0 = Date.now();
  await slurm.run('sbatch', ['--parsable', `--array=1-${JOBS}`, '--output=/dev/null', script]);
  let firstStart = 0;
  const s = await untilSdiag(
    slurm,
    'the array',
    (d) => jobCount(d, 'completed') + jobCount(d, 'failed') >= JOBS,
    (d) => {
      if (firstStart === 0 && jobCount(d, 'started') > 0) firstStart = Date.now();
    },
  );
  const t1 = Date.now();
  const failed = jobCount(s, 'failed');
  if (failed > 0) console.log(`  (plain Slurm: ${failed} jobs failed)`);
  const w = workloadRpcs(s);
  return {
    rate: JOBS / ((t1 - t0) / 1000),
    fromStart: JOBS / ((t1 - firstStart) / 1000),
    firstStartS: (firstStart - t0) / 1000,
    rpcs: w.total,
    byType: w.byType,
  };
}

const unfinished = { statuses: ['queue', 'running'] as ('queue' | 'running')[], dirs: [], ranges: [] };
const all = { statuses: ['all'] as 'all'[], dirs: [], ranges: [] };

function commandCounts(file: string): Record<string, number> {
  const counts: Record<string, number> = { sbatch: 0, squeue: 0, scancel: 0 };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    /* none yet */
  }
  for (const c of text.split('\n').filter(Boolean)) counts[c] = (counts[c] ?? 0) + 1;
  return counts;
}

async function pool(slurm: Slurm, u: BenchUser, calls: string): Promise<Row> {
  await slurm.run('sdiag', ['--reset']);
  writeFileSync(calls, '');
  const t0 = Date.now();
  const sub = await u.qpy(['sub', '--array', `1-${JOBS}`, '-m', '0.01', 'true']);
  if (sub.code !== 0) throw new Error(`qpy sub: ${sub.stderr}`);
  const c = await u.client();
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const r = await c.request({ type: 'check', selector: unfinished });
    if (r.type === 'jobs' && r.jobs.length === 0) break;
    if (Date.now() > deadline) throw new Error(`the pool's jobs: not done within ${DEADLINE_MS / 1000} s`);
    await delay(250);
  }
  const atDone = workloadRpcs(await sdiag(slurm));
  const commands = commandCounts(calls);
  const check = await c.request({ type: 'check', selector: all });
  const jobs = check.type === 'jobs' ? check.jobs : [];
  const ran = jobs.flatMap((j) => (j.state.type === 'done' ? [j.state] : []));
  if (ran.length !== JOBS) console.log(`  (qpy pool: ${JOBS - ran.length} jobs did not end done)`);
  const firstStart = Math.min(...ran.map((s) => s.startedAt));
  const lastEnd = Math.max(...ran.map((s) => s.endedAt));
  // The idle pilot ends (scancel) before the next repetition: the RPCs until then are counted too.
  const ended = await untilSdiag(slurm, 'the idle pilot', (d) => jobCount(d, 'completed') + jobCount(d, 'canceled') >= 1);
  await c.request({ type: 'clean', selector: all });
  c.close();
  return {
    rate: JOBS / ((lastEnd - t0) / 1000),
    fromStart: JOBS / ((lastEnd - firstStart) / 1000),
    firstStartS: (firstStart - t0) / 1000,
    rpcs: atDone.total,
    byType: atDone.byType,
    commands,
    rpcsToPilotEnd: workloadRpcs(ended).total,
  };
}

/** Wrappers for sbatch, squeue and scancel that note each call in `calls`, in a directory to put first on PATH. */
async function countingWrappers(dir: string, calls: string): Promise<void> {
  for (const tool of ['sbatch', 'squeue', 'scancel']) {
    const real = (await runCommand('/bin/sh', ['-c', `command -v ${tool}`])).trim();
    writeFileSync(join(dir, tool), `#!/bin/sh\necho ${tool} >> '${calls}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  }
}

/** The master, its node agent (an ssh client, its child) and their directory go. */
function closeUser(u: BenchUser): void {
  try {
    const pid = (JSON.parse(readFileSync(join(u.qpyDir, 'master.json'), 'utf8')) as { pid: number }).pid;
    for (const p of procTable().filter((p) => p.ppid === pid)) process.kill(p.pid, 'SIGKILL');
  } catch {
    /* not running */
  }
  u.cleanup();
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const slurm = await startSlurm({ cpus: CPUS, memoryMB: 4096, partition: 'bench', base: BENCH_BASE });
const sshd = await startCluster(1).catch(async (err: unknown) => {
  await slurm.close();
  throw err;
});
const rows: { plain: Row[]; pool: Row[]; agent: Row[] } = { plain: [], pool: [], agent: [] };
let u: BenchUser | null = null;
let ua: BenchUser | null = null;
try {
  const version = (await slurm.run('sinfo', ['-V'])).trim();
  const conf = readFileSync(slurm.conf, 'utf8');
  const sched = conf.split('\n').filter((l) => /^(Scheduler|Select)/.test(l));
  const script = join(slurm.dir, 'true.sh');
  writeFileSync(script, '#!/bin/sh\ntrue\n', { mode: 0o755 });
  const sshConfig = sshConfigForNode(slurm, sshd.sshConfig);
  const calls = join(slurm.dir, 'calls');
  const bin = join(slurm.dir, 'bin');
  mkdirSync(bin);
  await countingWrappers(bin, calls);
  const line = `pool p slurm partition=${slurm.partition} nodes=1 cores=${CPUS} memory=1 time=01:00:00 idle=${IDLE_MIN} reach=ssh`;
  u = benchUser(`${line}\n`, {
    SLURM_CONF: slurm.conf,
    QPY_SSH_CONFIG: sshConfig,
    PATH: `${bin}:${process.env['PATH']}`,
  });
  const started = await u.qpy(['check']); // the master starts, and the pool runner's first squeue (no pilot yet) is behind us
  if (started.code !== 0) throw new Error(`qpy check: ${started.stderr}`);
  // The same pool reached through its pilot (reach=agent): no SSH; the pilot connects back to the master.
  const callsA = join(slurm.dir, 'calls-agent');
  const binA = join(slurm.dir, 'bin-agent');
  mkdirSync(binA);
  await countingWrappers(binA, callsA);
  const lineA = line.replace('reach=ssh', 'reach=agent back=127.0.0.1');
  ua = benchUser(`${lineA}\n`, { SLURM_CONF: slurm.conf, PATH: `${binA}:${process.env['PATH']}` });
  const startedA = await ua.qpy(['check']);
  if (startedA.code !== 0) throw new Error(`qpy check: ${startedA.stderr}`);

  console.log(
    `bench/slurm-pool — ${conditions()}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at start`,
  );
  console.log(`${version}, one node of ${CPUS} CPUs (test/helpers/slurm.ts): ${sched.join(' ')}`);
  console.log(
    `${JOBS} \`true\` jobs, ${REPS} repetition(s) in turns (medians); qpy: \`${line}\` over one sshd node, and the same with reach=agent back=127.0.0.1; squeue polled at the default rate`,
  );
  for (let r = 0; r < REPS; r++) {
    rows.plain.push(await plain(slurm, script));
    rows.pool.push(await pool(slurm, u, calls));
    rows.agent.push(await pool(slurm, ua, callsA));
  }
} finally {
  if (u) closeUser(u);
  if (ua) closeUser(ua);
  await sshd.close();
  await slurm.close();
}

const fig = (rs: Row[], f: (r: Row) => number) => median(rs.map(f));
const per1000 = (r: Row) => (r.rpcs / JOBS) * 1000;
console.log('\nsystem                      jobs/s  from 1st start  1st start s  Slurm RPCs  RPCs/1,000 jobs');
const print = (label: string, rs: Row[]) =>
  console.log(
    `${label.padEnd(26)} ${fig(rs, (r) => r.rate)
      .toFixed(1)
      .padStart(7)}  ${fig(rs, (r) => r.fromStart)
      .toFixed(1)
      .padStart(14)}  ${fig(rs, (r) => r.firstStartS)
      .toFixed(1)
      .padStart(11)}  ${fig(rs, (r) => r.rpcs)
      .toFixed(0)
      .padStart(10)}  ${fig(rs, per1000).toFixed(1).padStart(15)}`,
  );
print('plain sbatch --array', rows.plain);
print('qpy pool (1 pilot, ssh)', rows.pool);
print('qpy pool (1 pilot, agent)', rows.agent);
const ratio = (of: Row[], f: (r: Row) => number) => {
  const x = fig(of, f) / fig(rows.plain, f);
  return x >= 0.1 ? x.toFixed(2) : x.toPrecision(2);
};
for (const [label, of] of [
  ['ratio pool ssh / plain', rows.pool],
  ['ratio pool agent / plain', rows.agent],
] as const)
  console.log(
    `${label.padEnd(26)} ${ratio(of, (r) => r.rate).padStart(7)}  ${ratio(of, (r) => r.fromStart).padStart(14)}  ${''.padStart(11)}  ${ratio(of, (r) => r.rpcs).padStart(10)}  ${ratio(of, per1000).padStart(15)}`,
  );
const last = { plain: rows.plain.at(-1)!, pool: rows.pool.at(-1)! };
console.log(`\nRPCs by type (last repetition; sdiag's own ${'REQUEST_STATS_INFO'} left out):`);
console.log(`  plain: ${topTypes(last.plain.byType)}`);
console.log(`  pool:  ${topTypes(last.pool.byType)}`);
const cmds = last.pool.commands!;
console.log(
  `pool runner's Slurm commands until all jobs were done: ${cmds['sbatch']} sbatch, ${cmds['squeue']} squeue, ${cmds['scancel']} scancel; ` +
    `RPCs until its idle pilot (idle=${IDLE_MIN} min) had ended too: ${last.pool.rpcsToPilotEnd}`,
);
const listing = last.pool.byType.filter(([t]) => t === 'REQUEST_JOB_INFO' || t === 'REQUEST_PARTITION_INFO').reduce((n, [, c]) => n + c, 0);
if (cmds['squeue']! > 0)
  console.log(
    `one squeue: ${(listing / cmds['squeue']!).toFixed(1)} RPCs (REQUEST_JOB_INFO, REQUEST_PARTITION_INFO); the pool runs one per 10 s while it has pilots, whatever the number of jobs`,
  );
