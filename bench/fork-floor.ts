/**
 * bench/fork-floor: qpy against the fork floor, side by side in one run.
 * JOBS `/bin/true` jobs at SLOTS slots (default 1,000 at 8): `xargs -P SLOTS`,
 * qpy on the local node (declared with SLOTS cores) and qpy over 4 loopback
 * sshd nodes (SLOTS/4 cores each), interleaved REPS times (medians printed).
 * Throughput is from the first submission to the last recorded end; CPU is
 * every tick spent by the processes involved (this bench's children, the
 * master and their descendants, reaped ones included; the bench's own
 * submitting client is shown apart), divided by the jobs.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, SSHD } from '../test/helpers/sshd-cluster.js';
import { cpuMs, procTable } from '../test/helpers/procs.js';
import { benchUser, conditions, type BenchUser } from './lib.js';

const JOBS = Number(process.env['BENCH_JOBS'] ?? 1000);
const SLOTS = Number(process.env['BENCH_SLOTS'] ?? 8);
const REPS = Number(process.env['BENCH_REPS'] ?? 3);

/** CPU ms of the trees under `roots` (the roots' own time only where `ownToo`), reaped children included. */
function treeCpu(roots: number[], ownToo: (pid: number) => boolean): number {
  const all = new Map(procTable().map((p) => [p.pid, p]));
  const kids = new Map<number, number[]>();
  for (const [pid, s] of all) kids.set(s.ppid, [...(kids.get(s.ppid) ?? []), pid]);
  let ms = 0;
  const seen = new Set<number>();
  const walk = (pid: number) => {
    if (seen.has(pid)) return;
    seen.add(pid);
    const s = all.get(pid);
    if (!s) return;
    ms += s.cpu.children + (ownToo(pid) ? s.cpu.own : 0);
    for (const k of kids.get(pid) ?? []) walk(k);
  };
  for (const r of roots) walk(r);
  return ms;
}

const ownCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Result {
  jobsPerS: number;
  cpuMsPerJob: number;
  clientMsPerJob: number;
  /** The master process's own CPU (its threads, not its children). */
  masterMsPerJob: number;
}

async function floor(): Promise<Result> {
  const c0 = treeCpu([process.pid], (p) => p !== process.pid);
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) =>
    execFile('/bin/sh', ['-c', `seq ${JOBS} | xargs -P ${SLOTS} -n 1 /bin/true`], (err) => (err ? reject(err) : resolve())),
  );
  const ms = performance.now() - t0;
  const cpu = treeCpu([process.pid], (p) => p !== process.pid) - c0;
  return { jobsPerS: JOBS / (ms / 1000), cpuMsPerJob: cpu / JOBS, clientMsPerJob: 0, masterMsPerJob: 0 };
}

const masterPid = (u: BenchUser): number => (JSON.parse(readFileSync(join(u.qpyDir, 'master.json'), 'utf8')) as { pid: number }).pid;

async function qpyRun(u: BenchUser): Promise<Result> {
  const c = await u.client();
  const all = { statuses: ['all'] as 'all'[], dirs: [], ranges: [] };
  const unfinished = { statuses: ['queue', 'running'] as ('queue' | 'running')[], dirs: [], ranges: [] };
  const roots = [process.pid, masterPid(u)];
  const own = (p: number) => p !== process.pid;
  const c0 = treeCpu(roots, own);
  const m0 = cpuMs(roots[1]!).own;
  const k0 = ownCpu();
  const t0 = Date.now();
  const acks: Promise<unknown>[] = [];
  for (let i = 0; i < JOBS; i++)
    acks.push(c.request({ type: 'submit', command: '/bin/true', cwd: u.work, cores: 1, memGB: 0, attrs: null }));
  await Promise.all(acks);
  for (;;) {
    const r = await c.request({ type: 'check', selector: unfinished });
    if (r.type === 'jobs' && r.jobs.length === 0) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const cpu = treeCpu(roots, own) - c0;
  const client = ownCpu() - k0;
  const master = cpuMs(roots[1]!).own - m0;
  const check = await c.request({ type: 'check', selector: all });
  const jobs = check.type === 'jobs' ? check.jobs : [];
  const bad = jobs.filter((j) => j.state.type !== 'done').length;
  if (bad > 0) console.log(`  (${bad} jobs did not end done)`);
  const t1 = Math.max(...jobs.map((j) => ('endedAt' in j.state ? j.state.endedAt : 0)));
  await c.request({ type: 'clean', selector: all });
  c.close();
  return { jobsPerS: JOBS / ((t1 - t0) / 1000), cpuMsPerJob: cpu / JOBS, clientMsPerJob: client / JOBS, masterMsPerJob: master / JOBS };
}

async function warm(u: BenchUser): Promise<void> {
  await u.qpy(['check']);
  const c = await u.client();
  await Promise.all(
    Array.from({ length: 16 }, () => c.request({ type: 'submit', command: '/bin/true', cwd: u.work, cores: 1, memGB: 0, attrs: null })),
  );
  for (;;) {
    const r = await c.request({ type: 'check', selector: { statuses: ['queue', 'running'], dirs: [], ranges: [] } });
    if (r.type === 'jobs' && r.jobs.length === 0) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  await c.request({ type: 'clean', selector: { statuses: ['all'], dirs: [], ranges: [] } });
  c.close();
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`bench/fork-floor — ${conditions()}`);
console.log(`${JOBS} /bin/true jobs at ${SLOTS} slots, ${REPS} interleaved repetitions, medians`);
const cluster = SSHD && SLOTS % 4 === 0 ? await startCluster(4) : null;
if (cluster) process.env['QPY_SSH_CONFIG'] = cluster.sshConfig;
const local = benchUser(`localhost cores=${SLOTS} memory=64\n`);
const ssh = cluster
  ? benchUser(`${cluster.nodes.map((n) => `${n.name} address=${n.name} cores=${SLOTS / 4} memory=64`).join('\n')}\n`)
  : null;
const results: Record<string, Result[]> = { floor: [], local: [], ssh: [] };
try {
  await warm(local);
  if (ssh) await warm(ssh);
  for (let r = 0; r < REPS; r++) {
    results['floor']!.push(await floor());
    results['local']!.push(await qpyRun(local));
    if (ssh) results['ssh']!.push(await qpyRun(ssh));
  }
} finally {
  local.cleanup();
  ssh?.cleanup();
  await cluster?.close();
}
const base = median(results['floor']!.map((r) => r.jobsPerS));
const baseCpu = median(results['floor']!.map((r) => r.cpuMsPerJob));
console.log('system                 jobs/s  of floor  CPU ms/job  ×floor  master itself  (+ submitting client ms/job)');
for (const [name, rs] of Object.entries(results)) {
  if (rs.length === 0) continue;
  const j = median(rs.map((r) => r.jobsPerS));
  const cpu = median(rs.map((r) => r.cpuMsPerJob));
  const label = name === 'floor' ? `xargs -P ${SLOTS}` : name === 'local' ? 'qpy, local node' : 'qpy, 4 sshd nodes';
  console.log(
    `${label.padEnd(22)} ${j.toFixed(0).padStart(6)}  ${((j / base) * 100).toFixed(0).padStart(6)} %  ${cpu.toFixed(1).padStart(10)}  ${(cpu / baseCpu).toFixed(1).padStart(6)}  ${median(
      rs.map((r) => r.masterMsPerJob),
    )
      .toFixed(1)
      .padStart(12)}  (+${median(rs.map((r) => r.clientMsPerJob)).toFixed(1)})`,
  );
}
