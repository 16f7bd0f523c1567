/**
 * bench/dispatch-local: how many `/bin/true` jobs per second the embedded
 * default starts and completes (the local node declared with 32 cores, so the
 * machinery rather than the core count is measured), and the delay between a
 * job's exit and `check` showing it ended. Measured side by side without and
 * with the event log (events.jsonl; QPY_EVENTS_MAX_BYTES=0 turns it off),
 * alternating, BENCH_ROUNDS rounds (default 2) of a fresh master each, so
 * what the log costs dispatch is printed (issue 15's target: at most 5 %).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { benchUser, conditions, summary } from './lib.js';
import { StatusChanges } from '../src/master/event-log.js';
import * as life from '../src/master/lifecycle.js';
import { JobTable } from '../src/master/job-table.js';
import { openEventFile } from '../src/daemons/master/event-file.js';
import { measureDispatch } from './dispatch-measure.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);

console.log(`bench/dispatch-local — ${conditions()}`);
console.log(
  `conditions: embedded default, personal nodes file "localhost cores=32 memory=64"; jobs submitted over one protocol connection; ` +
    `${ROUNDS} rounds of (event log off, event log on), a fresh master each`,
);
const rates = { off: [] as number[], on: [] as number[] };
const cpu = { off: [] as number[], on: [] as number[] };
const delays = { off: [] as number[], on: [] as number[] };
for (let round = 1; round <= ROUNDS; round++) {
  for (const log of ['off', 'on'] as const) {
    const u = benchUser('localhost cores=32 memory=64\n', log === 'off' ? { QPY_EVENTS_MAX_BYTES: '0' } : {});
    try {
      const r = await measureDispatch(u, `local dispatch, round ${round}, event log ${log}`);
      rates[log].push(r.jobsPerSecond);
      if (r.cpuMsPerJob !== null) cpu[log].push(r.cpuMsPerJob);
      delays[log].push(...r.delays);
    } finally {
      u.cleanup();
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const off = median(rates.off);
const on = median(rates.on);
console.log(
  `event log: ${off.toFixed(0)} jobs/s without, ${on.toFixed(0)} jobs/s with (medians of ${ROUNDS}): ` +
    `${(((off - on) / off) * 100).toFixed(1)} % slower with it (target: at most 5 %)`,
);
if (cpu.on.length > 0 && cpu.off.length > 0) {
  const [a, b] = [median(cpu.off), median(cpu.on)];
  console.log(
    `event log: the master's CPU per job ${a.toFixed(2)} ms without, ${b.toFixed(2)} ms with (medians): ` +
      `${(((b - a) / a) * 100).toFixed(1)} % more with it (less sensitive than jobs/s to other load on the machine)`,
  );
}
console.log(`exit → check shows it ended, without: ${summary(delays.off)}; with: ${summary(delays.on)}`);

/**
 * The event log's own work for one job (its submission, start and end: three lines derived, made
 * JSON and appended), timed in this process over many jobs: a figure the machine's other load
 * hardly moves, to set beside the master's CPU per job above.
 */
async function eventWorkPerJobUs(n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'qpy-bench-events-'));
  try {
    const changes = new StatusChanges('bench');
    changes.seed(new JobTable(), []);
    const file = openEventFile(join(dir, 'events.jsonl'), 64 * 1024 * 1024, 3, () => undefined);
    const spec = { command: '/bin/true', cwd: dir, cores: 1, memGB: 0, attrs: null };
    const at = new Date().toISOString();
    const t0 = performance.now();
    for (let id = 1; id <= n; id++) {
      const emit = (events: object[]) => {
        for (const e of events) file.append(`${JSON.stringify(e)}\n`);
      };
      emit(changes.submitted(id, id, undefined, at));
      const running = life.start(life.newJob(id, spec, 0), 'localhost', 1);
      emit(changes.put(running, at));
      emit(changes.put(life.end(running, { type: 'exit', code: 0 }, 2), at));
      if (id % 500 === 0) await new Promise((res) => setImmediate(res)); // let the batched writes run, as in the master
    }
    file.close();
    return ((performance.now() - t0) * 1000) / n;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const us = await eventWorkPerJobUs(100_000);
const cpuOff = cpu.off.length > 0 ? median(cpu.off) : null;
console.log(
  `event log's own work per job (submit, start, end: three lines), in-process over 100,000 jobs: ${us.toFixed(1)} µs` +
    (cpuOff === null ? '' : `, ${((us / 1000 / cpuOff) * 100).toFixed(1)} % of the master's CPU per job without it`),
);
