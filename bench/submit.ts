/**
 * bench/submit: latency of one whole `qpy sub` command (process start to
 * exit, as a shell runs it) with 0 and with 100,000 jobs already stored, and
 * durable submits per second from 20 concurrent clients.
 */
import { openJobStore } from '../src/store/job-store.js';
import { createCommitter } from '../src/store/group-commit.js';
import type { Job } from '../src/protocol/job.js';
import { execFile } from 'node:child_process';
import { QPY, benchUser, conditions, summary, type BenchUser } from './lib.js';
import { join } from 'node:path';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 200);
const STORED = Number(process.env['BENCH_STORED'] ?? 100_000);

/** One whole `qpy sub`, as a shell runs it: `sh -c 'qpy sub -m 0 true'`, from fork to exit. */
function shellSub(u: BenchUser): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', `'${QPY}' sub -m 0 true`], { cwd: u.work, env: u.env }, (err, _out, stderr) =>
      err ? reject(new Error(stderr)) : resolve(),
    );
  });
}

async function latency(u: BenchUser, label: string): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await shellSub(u);
    samples.push(performance.now() - t0);
  }
  console.log(`qpy sub latency, ${label}: ${summary(samples)}`);
}

/** Store `n` finished jobs, and optionally pause the queue, before the master starts. */
async function fill(u: BenchUser, n: number, paused: boolean): Promise<void> {
  const store = openJobStore(join(u.qpyDir, 'master.db'));
  const c = createCommitter(store, (e) => {
    throw e;
  });
  const now = Date.now();
  for (let id = 1; id <= n; id++) {
    const job: Job = {
      id,
      spec: { command: `echo job ${id}`, cwd: u.work, cores: 1, memGB: 1, attrs: null },
      queuedAt: now,
      state: { type: 'done', node: 'localhost', startedAt: now, endedAt: now, outcome: { type: 'exit', code: 0 } },
    };
    c.putJob(job, null);
  }
  c.setMeta('next_id', String(n + 1));
  if (paused) c.setMeta('paused', 'true');
  await c.flush();
  store.close();
}

async function concurrent(u: BenchUser, clients: number, seconds: number): Promise<void> {
  const conns = await Promise.all(Array.from({ length: clients }, () => u.client()));
  let count = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    conns.map(async (c) => {
      while (performance.now() < end) {
        await c.request({ type: 'submit', command: 'true', cwd: u.work, cores: 1, memGB: 0, attrs: null });
        count++;
      }
    }),
  );
  const rate = count / ((performance.now() - t0) / 1000);
  console.log(
    `durable submits/s, ${clients} concurrent protocol clients: ${rate.toFixed(0)} (${count} in ${seconds} s; each acknowledged after its commit)`,
  );
  for (const c of conns) c.close();
}

async function concurrentCli(u: BenchUser, clients: number, perClient: number): Promise<void> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < perClient; i++) {
        const r = await u.qpy(['sub', '-m', '0', 'true']);
        if (r.code !== 0) throw new Error(r.stderr);
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  console.log(
    `durable submits/s, ${clients} concurrent qpy sub processes: ${((clients * perClient) / s).toFixed(0)} ` +
      `(${clients * perClient} in ${s.toFixed(1)} s; bound by process start on this machine)`,
  );
}

console.log(`bench/submit — ${conditions()}`);
console.log('conditions: embedded default, local node declared with 32 cores; jobs are `true` with -m 0;');
console.log('  "paused": the queue is paused (set in the store before start), so only submission is measured, not the');
console.log('  submitted jobs running beside it on the same 2 cores; "running": every submitted job also runs at once.');
for (const [stored, paused] of [
  [0, true],
  [STORED, true],
  [0, false],
] as const) {
  const u = benchUser('localhost cores=32 memory=64\n');
  try {
    await fill(u, stored, paused);
    const t0 = performance.now();
    await u.qpy(['check', '1']);
    if (stored > 0)
      console.log(`master start with ${stored} jobs stored (restore + first reply): ${(performance.now() - t0).toFixed(0)} ms`);
    await latency(u, `${stored} jobs stored, ${paused ? 'paused' : 'running'}`);
    if (stored === 0) {
      await concurrent(u, 20, 5);
      await concurrentCli(u, 20, 10);
    }
  } finally {
    u.cleanup();
  }
}
