/**
 * bench/dispatch-queue: does dispatch slow down as the queue grows? Two
 * masters on the local node (BENCH_SLOTS slots), one holding a queue of
 * BENCH_SMALL jobs (1,000), the other BENCH_QUEUE (1,000,000), as one array
 * or one load (BENCH_KINDS, default array,load; also capped: an array with
 * %N, and after: an array waiting for a done job) of `true` jobs. In each
 * round, each master (in turns, the order alternating) runs the first
 * BENCH_K jobs of its queue: the queue is unpaused and a `wait` for those
 * jobs (sent while paused) answers when the last has ended. Prints jobs/s
 * and the master's CPU per job for both, and their ratio. The small queue
 * is topped up to its size before each round; the big one loses BENCH_K a
 * round (a fraction of a percent). Target (issue 14): the big queue within
 * 10 % of the small one. BENCH_PROFILE=DIR: both masters write a CPU
 * profile (as node --cpu-prof would) into DIR.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchDetached } from '../src/launch-master.js';
import { benchUser, conditions, ROOT, type BenchUser } from './lib.js';

const SMALL = Number(process.env['BENCH_SMALL'] ?? 1000);
const QUEUE = Number(process.env['BENCH_QUEUE'] ?? 1_000_000);
const K = Number(process.env['BENCH_K'] ?? 500);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const SLOTS = Number(process.env['BENCH_SLOTS'] ?? 8);
/** A folder: each master writes a V8 CPU profile of its whole life there (see bench/profiled-master.ts). */
const PROFILE = process.env['BENCH_PROFILE'];
/** array: one array; load: one load; capped: one array with at most BENCH_SLOTS / 2 running (%N); after: one array whose jobs wait for job 1 (done). */
const KIND_NAMES = ['array', 'load', 'capped', 'after'] as const;
type Kind = (typeof KIND_NAMES)[number];
const KINDS = (process.env['BENCH_KINDS'] ?? 'array,load')
  .split(',')
  .filter((k): k is Kind => (KIND_NAMES as readonly string[]).includes(k));
/** Commands per part of a load (as `qpy load` sends them). */
const LOAD_PART = 50_000;

type Client = Awaited<ReturnType<BenchUser['client']>>;

interface Master {
  label: string;
  size: number;
  u: BenchUser;
  c: Client;
  /** Jobs submitted so far (IDs 1…submitted; nothing else is ever submitted). */
  submitted: number;
  /** The first ID not yet run (the queue runs in ID order). */
  next: number;
}

/** The master's CPU time so far (ms): user + system, from /proc. */
function cpuMs(u: BenchUser): number {
  const pid = (JSON.parse(readFileSync(join(u.qpyDir, 'master.json'), 'utf8')) as { pid: number }).pid;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (100 Hz)
}

async function ok<T extends { type: string }>(p: Promise<T>): Promise<T> {
  const r = await p;
  if (r.type === 'error') throw new Error(JSON.stringify(r));
  return r;
}

/** Queue `n` more `true` jobs on `m`, as one array or one load. */
async function enqueue(m: Master, kind: Kind, n: number): Promise<void> {
  const template = {
    cwd: m.u.work,
    cores: 1,
    memGB: 0,
    attrs: null,
    ...(kind === 'after' ? { after: [[1, 1]] as [number, number][] } : {}),
  };
  if (kind !== 'load') {
    const cap = kind === 'capped' ? Math.max(1, SLOTS >> 1) : null;
    const r = m.c.request(
      { type: 'submitMany', template, kind: 'array', commands: ['true'], indices: [1, n], cap, stage: null, last: true },
      600_000,
    );
    await ok(r);
  } else {
    let stage: number | null = null;
    for (let sent = 0; sent < n; sent += LOAD_PART) {
      const part = Array.from({ length: Math.min(LOAD_PART, n - sent) }, () => 'true');
      const last = sent + part.length >= n;
      const r: { type: string; stage?: number | null } = await ok(
        m.c.request({ type: 'submitMany', template, kind, commands: part, indices: null, cap: null, stage, last }, 600_000),
      );
      if (r.type === 'submittedMany') stage = r.stage ?? null;
    }
  }
  m.submitted += n;
}

async function start(label: string, size: number, kind: Kind): Promise<Master> {
  const u = benchUser(`localhost cores=${SLOTS} memory=64\n`);
  if (PROFILE !== undefined) {
    const r = await launchDetached(join(ROOT, 'dist', 'bench', 'profiled-master.js'), { ...u.env, BENCH_PROFILE: PROFILE });
    if (r.type === 'error') throw new Error(r.message);
  }
  await u.qpy(['check']); // starts the master, unless started above
  const c = await u.client();
  await ok(c.request({ type: 'pause', paused: true }));
  const m: Master = { label, size, u, c, submitted: 0, next: 1 };
  if (kind === 'after') {
    // Job 1, which the others wait for, done before they are queued.
    await ok(c.request({ type: 'submit', command: 'true', cwd: u.work, cores: 1, memGB: 0, attrs: null }));
    await ok(c.request({ type: 'pause', paused: false }));
    await ok(c.request({ type: 'wait', ranges: [[1, 1]], all: false }, 60_000));
    await ok(c.request({ type: 'pause', paused: true }));
    m.submitted = 1;
    m.next = 2;
  }
  const t = performance.now();
  await enqueue(m, kind, size);
  console.log(
    `  ${label}: ${size} jobs queued (one ${kind === 'load' ? 'load' : 'array'}) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  return m;
}

/** Run the first K queued jobs of `m`: jobs/s from the unpause to the wait's answer, and the master's CPU per job (ms). */
async function round(m: Master, kind: Kind): Promise<{ rate: number; cpu: number }> {
  const queued = m.submitted - m.next + 1;
  if (queued < m.size) await enqueue(m, kind, m.size - queued);
  const first = m.next;
  const waited = m.c.request({ type: 'wait', ranges: [[first, first + K - 1]], all: false }, 600_000);
  // The wait walks every job once when it arrives: let it, while paused (a `running` check queues behind it).
  await ok(m.c.request({ type: 'check', selector: { statuses: ['running'], dirs: [], ranges: [] } }, 600_000));
  const cpu0 = cpuMs(m.u);
  const t0 = performance.now();
  await ok(m.c.request({ type: 'pause', paused: false }));
  const w = await ok(waited);
  const s = (performance.now() - t0) / 1000;
  const cpu1 = cpuMs(m.u);
  await ok(m.c.request({ type: 'pause', paused: true }));
  if (w.type !== 'waited' || w.done.length !== K) throw new Error(`${m.label}: ${JSON.stringify(w).slice(0, 300)}`);
  // Let the jobs started meanwhile end, then find where the queue now begins.
  for (;;) {
    const r = await ok(m.c.request({ type: 'check', selector: { statuses: ['running'], dirs: [], ranges: [] } }, 600_000));
    if (r.type === 'jobs' && r.jobs.length === 0) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  const ids = await ok(m.c.request({ type: 'jobIds', statuses: ['done', 'failed', 'killed', 'undone', 'node_failed'] }, 600_000));
  if (ids.type === 'ids') m.next = Math.max(m.next, ...ids.ids) + 1;
  return { rate: K / s, cpu: (cpu1 - cpu0) / K };
}

/** Stop the master with SIGTERM (so its profile is written) and wait until it has exited. */
async function stopped(m: Master): Promise<void> {
  const pid = (JSON.parse(readFileSync(join(m.u.qpyDir, 'master.json'), 'utf8')) as { pid: number }).pid;
  process.kill(pid, 'SIGTERM');
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      console.log(`  profile of the master of the ${m.label} (pid ${pid}) written (bench/profiled-master.ts) under ${PROFILE}`);
      return;
    }
    await new Promise((res) => setTimeout(res, 50));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

console.log(`bench/dispatch-queue — ${conditions()}`);
console.log(
  `conditions: embedded default, local node with ${SLOTS} slots; ${ROUNDS} rounds of the first ${K} \`true\` jobs of each queue (plus one warm-up round), masters in turns`,
);
for (const kind of KINDS) {
  console.log(`${kind}:`);
  const small = await start(`queue of ${SMALL}`, SMALL, kind);
  const big = await start(`queue of ${QUEUE}`, QUEUE, kind);
  try {
    await round(small, kind);
    await round(big, kind);
    const results = new Map<Master, { rate: number; cpu: number }[]>([
      [small, []],
      [big, []],
    ]);
    for (let r = 0; r < ROUNDS; r++) {
      for (const m of r % 2 === 0 ? [small, big] : [big, small]) {
        const x = await round(m, kind);
        results.get(m)!.push(x);
        console.log(`  round ${r + 1}, ${m.label}: ${x.rate.toFixed(0)} jobs/s, master CPU ${x.cpu.toFixed(2)} ms/job`);
      }
    }
    const rs = median(results.get(small)!.map((x) => x.rate));
    const rb = median(results.get(big)!.map((x) => x.rate));
    const cs = median(results.get(small)!.map((x) => x.cpu));
    const cb = median(results.get(big)!.map((x) => x.cpu));
    console.log(
      `  ${kind}, medians: ${rs.toFixed(0)} jobs/s from ${SMALL} queued, ${rb.toFixed(0)} jobs/s from ${QUEUE} queued: ${((rb / rs) * 100).toFixed(0)} % (target ≥ 90 %); master CPU ${cs.toFixed(2)} vs ${cb.toFixed(2)} ms/job`,
    );
    if (PROFILE !== undefined) for (const m of [small, big]) await stopped(m);
  } finally {
    small.c.close();
    big.c.close();
    small.u.cleanup();
    big.u.cleanup();
  }
}
