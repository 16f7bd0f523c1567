/**
 * bench/bulk: bulk submission and big arrays through the installed CLI,
 * committed durably. The queue is paused so nothing runs: this measures
 * acceptance and bookkeeping, not execution. Prints figures and conditions;
 * asserts nothing (the targets are stated next to the figures).
 *
 * Part 1 (BENCH_LOADS, BENCH_ARRAY): `qpy load` of 100,000 and 1,000,000
 * lines and `sub --array 1-1000000` (jobs/s), the master's RSS, the p50 of
 * `qpy check running`, `check --groups` and a restart with them all stored.
 *
 * Part 2 (BENCH_BIG, default 2,000,000; 0 skips it), in a fresh QPY_DIR:
 * one array of BENCH_BIG jobs, then `check` (no filter, a filter, --groups,
 * --all), a restart, `kill all` and `clean all`, each timed from the command's start
 * to its exit, with the CLI's peak RSS and the master's RSS. Target: check,
 * kill and clean answer within 5 s on a 2-core machine.
 */
import { execFile } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchUser, conditions, percentile, QPY as QPY_PATH, type BenchUser } from './lib.js';

const SIZES = (process.env['BENCH_LOADS'] ?? '100000,1000000')
  .split(',')
  .filter((s) => s !== '')
  .map(Number);
const ARRAY = Number(process.env['BENCH_ARRAY'] ?? 1_000_000);
const BIG = Number(process.env['BENCH_BIG'] ?? 2_000_000);

console.log(`bench/bulk — ${conditions()}`);

/** The master's RSS (MB). */
function rss(u: BenchUser): number {
  const pid = (JSON.parse(readFileSync(join(u.qpyDir, 'master.json'), 'utf8')) as { pid: number }).pid;
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Run `qpy args` under /usr/bin/time: seconds, the CLI's peak RSS (MB), its exit code, its stdout's line count and first and last lines. */
function measured(
  u: BenchUser,
  args: string[],
): Promise<{ s: number; cliMB: number; code: number; lines: number; head: string; tail: string; stderr: string }> {
  return new Promise((res) => {
    const t = performance.now();
    execFile(
      '/usr/bin/time',
      ['-f', 'maxrss=%M', QPY_PATH, ...args],
      { cwd: u.work, env: u.env, maxBuffer: 1 << 30 },
      (err, stdout, stderr) => {
        const s = (performance.now() - t) / 1000;
        const m = /maxrss=(\d+)/.exec(stderr);
        const lines = stdout.split('\n').filter((l) => l !== '');
        res({
          s,
          cliMB: m ? Number(m[1]) / 1024 : NaN,
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          lines: lines.length,
          head: lines[0] ?? '',
          tail: lines.at(-1) ?? '',
          stderr: stderr.replace(/maxrss=\d+\n?/, '').trim(),
        });
      },
    );
  });
}

async function part1(): Promise<void> {
  const u = benchUser('big address=localhost cores=64 memory=256\n');
  try {
    await u.qpy(['ctrlQueue', 'pause']);
    let stored = 0;
    for (const n of SIZES) {
      const file = join(u.dir, `cmds-${n}`);
      writeFileSync(file, `${Array.from({ length: n }, (_, i) => `./simulate --case ${i} --out result.${i}`).join('\n')}\n`);
      const t = performance.now();
      const r = await u.qpy(['load', file]);
      const s = (performance.now() - t) / 1000;
      if (r.code !== 0) throw new Error(r.stderr);
      stored += n;
      console.log(
        `qpy load of ${n} lines: ${s.toFixed(2)} s, ${(n / s).toFixed(0)} jobs/s (${r.stdout.trim()}); ` +
          `master RSS ${rss(u).toFixed(0)} MB with ${stored} jobs stored`,
      );
    }
    if (ARRAY > 0) {
      const t = performance.now();
      const r = await u.qpy(['sub', '--array', `1-${ARRAY}`, './simulate --case $QPY_ARRAY_INDEX']);
      const s = (performance.now() - t) / 1000;
      if (r.code !== 0) throw new Error(r.stderr);
      stored += ARRAY;
      console.log(
        `qpy sub --array 1-${ARRAY}: ${s.toFixed(2)} s, ${(ARRAY / s).toFixed(0)} jobs/s; master RSS ${rss(u).toFixed(0)} MB with ${stored} jobs stored`,
      );
    }
    if (stored === 0) return;
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
    console.log(
      `qpy check running with ${stored} jobs stored: p50 ${percentile(running, 50).toFixed(0)} ms, p99 ${percentile(running, 99).toFixed(0)} ms (n=20)`,
    );
    const grouped = await timed(['check', '--groups'], 5);
    console.log(
      `qpy check --groups (every job, one line per load or array) with ${stored} jobs stored: p50 ${percentile(grouped, 50).toFixed(0)} ms (n=5)`,
    );
    // The same jobs read back from the store by a new master.
    const t = performance.now();
    const r = await u.qpy(['restart']);
    if (r.code !== 0) throw new Error(r.stderr);
    const c = await u.qpy(['check', 'running']);
    if (c.code !== 0) throw new Error(c.stderr);
    console.log(
      `qpy restart with ${stored} jobs stored: ${((performance.now() - t) / 1000).toFixed(2)} s until it answers; master RSS ${rss(u).toFixed(0)} MB`,
    );
  } finally {
    u.cleanup();
  }
}

async function part2(): Promise<void> {
  const u = benchUser('big address=localhost cores=64 memory=256\n');
  const TARGET = 5;
  const show = (what: string, r: Awaited<ReturnType<typeof measured>>, target = true): void => {
    const verdict =
      r.code !== 0
        ? `FAILED (exit ${r.code}: ${r.stderr.split('\n')[0]})`
        : target
          ? r.s <= TARGET
            ? `within ${TARGET} s`
            : `OVER ${TARGET} s`
          : '';
    console.log(
      `  ${what}: ${r.s.toFixed(2)} s ${verdict}; ${r.lines} lines${r.lines > 0 ? ` (last: ${JSON.stringify(r.tail.slice(0, 140))})` : ''}; ` +
        `CLI peak RSS ${r.cliMB.toFixed(0)} MB; master RSS ${rss(u).toFixed(0)} MB`,
    );
  };
  try {
    await u.qpy(['ctrlQueue', 'pause']);
    console.log(`One array of ${BIG} jobs, queue paused (targets: check, kill and clean within ${TARGET} s):`);
    show(`qpy sub --array 1-${BIG} true`, await measured(u, ['sub', '--array', `1-${BIG}`, 'true']), false);
    show('qpy check', await measured(u, ['check']));
    show('qpy check 1000-1009 (a filter)', await measured(u, ['check', '1000-1009']));
    show('qpy check queue (a filter matching every job)', await measured(u, ['check', 'queue']));
    show('qpy check --groups', await measured(u, ['check', '--groups']));
    show('qpy check --all (every job, read a page at a time)', await measured(u, ['check', '--all']), false);
    const t = performance.now();
    const r = await u.qpy(['restart']);
    if (r.code !== 0) throw new Error(r.stderr);
    const c = await u.qpy(['check', 'running']);
    if (c.code !== 0) throw new Error(c.stderr);
    console.log(
      `  qpy restart with ${BIG} queued: ${((performance.now() - t) / 1000).toFixed(2)} s until it answers; master RSS ${rss(u).toFixed(0)} MB`,
    );
    show('qpy check (after the restart)', await measured(u, ['check']));
    show('qpy kill all', await measured(u, ['kill', 'all']));
    show('qpy check (all undone)', await measured(u, ['check']));
    show('qpy clean all', await measured(u, ['clean', 'all']));
  } finally {
    u.cleanup();
  }
}

if (SIZES.length > 0 || ARRAY > 0) await part1();
if (BIG > 0) await part2();
