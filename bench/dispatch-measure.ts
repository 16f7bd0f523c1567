/**
 * The dispatch figures both dispatch benches print: jobs/s for JOBS `/bin/true`
 * jobs submitted at once, and the delay from a job's exit to `check` showing
 * its end. Shared by bench/dispatch-local and bench/dispatch-ssh.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { summary, type BenchUser } from './lib.js';

const JOBS = Number(process.env['BENCH_JOBS'] ?? 2000);
const SAMPLES = Number(process.env['BENCH_SAMPLES'] ?? 200);

/** Jobs run (and cleaned) before measuring, so connections to nodes and the launch thread are up. */
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 32);

/** CPU time (user + system, ms) the master has used so far, from /proc (Linux; clock ticks of 10 ms); null elsewhere. */
function masterCpuMs(u: BenchUser): number | null {
  try {
    const { pid } = JSON.parse(readFileSync(join(u.qpyDir, 'master.json'), 'utf8')) as { pid: number };
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** Prints the figures; returns the throughput (jobs/s), the master's CPU time per job (ms, null where unknown) and the completion delays (ms). */
export async function measureDispatch(
  u: BenchUser,
  label: string,
): Promise<{ jobsPerSecond: number; cpuMsPerJob: number | null; delays: number[] }> {
  await u.qpy(['check']);
  const c = await u.client();
  const all = { statuses: ['all'] as 'all'[], dirs: [], ranges: [] };
  const unfinished = { statuses: ['queue', 'running'] as ('queue' | 'running')[], dirs: [], ranges: [] };

  // Warm-up: the first jobs open one connection per node (a one-off per master life, timed here).
  const tw = Date.now();
  await Promise.all(
    Array.from({ length: WARMUP }, () => c.request({ type: 'submit', command: '/bin/true', cwd: u.work, cores: 1, memGB: 0, attrs: null })),
  );
  for (;;) {
    const r = await c.request({ type: 'check', selector: unfinished });
    if (r.type === 'jobs' && r.jobs.length === 0) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  if (WARMUP > 0)
    console.log(
      `warm-up: ${WARMUP} jobs run first (connections opened, launch thread started) in ${Date.now() - tw} ms; not counted below`,
    );
  await c.request({ type: 'clean', selector: all });

  // Throughput: submit JOBS `/bin/true` jobs as fast as the master acknowledges them; the time is
  // from the first submission to the last job's recorded end (the master's endedAt), so the
  // polling below (every 250 ms, kept rare because listing thousands of unfinished jobs is not free
  // for the master) does not pad the figure.
  const cpu0 = masterCpuMs(u);
  const t0 = Date.now();
  const acks: Promise<unknown>[] = [];
  for (let i = 0; i < JOBS; i++)
    acks.push(c.request({ type: 'submit', command: '/bin/true', cwd: u.work, cores: 1, memGB: 0, attrs: null }));
  await Promise.all(acks);
  const tSubmitted = Date.now();
  for (;;) {
    const r = await c.request({ type: 'check', selector: unfinished });
    if (r.type === 'jobs' && r.jobs.length === 0) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  const cpu1 = masterCpuMs(u);
  const cpuMsPerJob = cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / JOBS;
  const check = await c.request({ type: 'check', selector: all });
  const jobs = check.type === 'jobs' ? check.jobs : [];
  const done = jobs.filter((j) => j.state.type === 'done').length;
  const t1 = Math.max(...jobs.map((j) => ('endedAt' in j.state ? j.state.endedAt : 0)));
  const jobsPerSecond = JOBS / ((t1 - t0) / 1000);
  console.log(
    `${label}: ${JOBS} jobs submitted in ${((tSubmitted - t0) / 1000).toFixed(2)} s, ` +
      `the last ended ${((t1 - t0) / 1000).toFixed(2)} s after the first submission: ` +
      `${jobsPerSecond.toFixed(0)} jobs/s started and completed (${done} done with exit 0)` +
      (cpuMsPerJob === null ? '' : `; the master used ${cpuMsPerJob.toFixed(2)} ms of CPU per job`),
  );
  await c.request({ type: 'clean', selector: all });

  // Completion delay: each job records the moment it is about to exit; `check` is polled every 2 ms.
  const delays: number[] = [];
  const BATCH = 10;
  for (let b = 0; b < SAMPLES / BATCH; b++) {
    const ids: number[] = [];
    for (let i = 0; i < BATCH; i++) {
      const r = await c.request({
        type: 'submit',
        command: 'sleep 0.1; date +%s%3N > t.$QPY_JOB_ID',
        cwd: u.work,
        cores: 1,
        memGB: 0,
        attrs: null,
      });
      if (r.type === 'submitted') ids.push(r.jobId);
    }
    const seen = new Map<number, number>();
    while (seen.size < ids.length) {
      const r = await c.request({
        type: 'check',
        selector: { statuses: [], dirs: [], ranges: ids.map((id) => [id, id] as [number, number]) },
      });
      const now = Date.now();
      if (r.type === 'jobs')
        for (const j of r.jobs) if (!seen.has(j.id) && j.state.type !== 'queue' && j.state.type !== 'running') seen.set(j.id, now);
      await new Promise((res) => setTimeout(res, 2));
    }
    for (const id of ids) {
      const f = join(u.work, `t.${id}`);
      if (!existsSync(f)) continue;
      delays.push(seen.get(id)! - Number(readFileSync(f, 'utf8')));
    }
  }
  console.log(`exit → check shows it ended: ${summary(delays)} (the job's last act is writing its clock; check polled every 2 ms)`);
  c.close();
  return { jobsPerSecond, cpuMsPerJob, delays };
}
