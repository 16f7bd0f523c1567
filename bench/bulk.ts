/**
 * bench/bulk: bulk submission through the installed CLI, committed durably:
 * `qpy load` of 100,000 and 1,000,000 lines and `sub --array 1-1000000`
 * (jobs/s from the command's start to its reply), the master's RSS
 * afterwards, and the p50 of `qpy check running` with the jobs stored. The
 * queue is paused so nothing runs: this measures acceptance, not execution.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchUser, conditions, percentile } from './lib.js';

const SIZES = (process.env['BENCH_LOADS'] ?? '100000,1000000').split(',').map(Number);
const ARRAY = Number(process.env['BENCH_ARRAY'] ?? 1_000_000);

console.log(`bench/bulk — ${conditions()}`);
const u = benchUser('big address=localhost cores=64 memory=256\n');
try {
  await u.qpy(['ctrlQueue', 'pause']);
  const rss = () => {
    const pid = (JSON.parse(readFileSync(join(u.qpyDir, 'master.json'), 'utf8')) as { pid: number }).pid;
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
  };
  let stored = 0;
  for (const n of SIZES) {
    const file = join(u.dir, `cmds-${n}`);
    writeFileSync(file, Array.from({ length: n }, (_, i) => `./simulate --case ${i} --out result.${i}`).join('\n') + '\n');
    const t = performance.now();
    const r = await u.qpy(['load', file]);
    const s = (performance.now() - t) / 1000;
    if (r.code !== 0) throw new Error(r.stderr);
    stored += n;
    console.log(`qpy load of ${n} lines: ${s.toFixed(2)} s, ${(n / s).toFixed(0)} jobs/s (${r.stdout.trim()}); master RSS ${rss().toFixed(0)} MB with ${stored} jobs stored`);
  }
  if (ARRAY > 0) {
    const t = performance.now();
    const r = await u.qpy(['sub', '--array', `1-${ARRAY}`, './simulate --case $QPY_ARRAY_INDEX']);
    const s = (performance.now() - t) / 1000;
    if (r.code !== 0) throw new Error(r.stderr);
    stored += ARRAY;
    console.log(`qpy sub --array 1-${ARRAY}: ${s.toFixed(2)} s, ${(ARRAY / s).toFixed(0)} jobs/s; master RSS ${rss().toFixed(0)} MB with ${stored} jobs stored`);
  }
  /** Run `qpy args` n times; the sorted durations (ms). */
  const timed = async (args: string[], n: number): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await u.qpy(args);
      if (r.code !== 0) throw new Error(r.stderr);
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b);
  };
  const running = await timed(['check', 'running'], 20);
  console.log(`qpy check running with ${stored} jobs stored: p50 ${percentile(running, 50).toFixed(0)} ms, p99 ${percentile(running, 99).toFixed(0)} ms (n=20)`);
  const grouped = await timed(['check', '--groups'], 5);
  console.log(`qpy check --groups (every job, one line per load or array) with ${stored} jobs stored: p50 ${percentile(grouped, 50).toFixed(0)} ms (n=5)`);
  // The same jobs read back from the store by a new master.
  const t = performance.now();
  const r = await u.qpy(['restart']);
  if (r.code !== 0) throw new Error(r.stderr);
  const c = await u.qpy(['check', 'running']);
  if (c.code !== 0) throw new Error(c.stderr);
  console.log(`qpy restart with ${stored} jobs stored: ${((performance.now() - t) / 1000).toFixed(2)} s until it answers; master RSS ${rss().toFixed(0)} MB`);
} finally {
  u.cleanup();
}
