/**
 * bench/history: `qpy history --since 1d` with 1,000,000 records in history,
 * end to end (the CLI started, the master's pages read, the lines printed to
 * a pipe), side by side with `sqlite3` running the same query on the same
 * file (before the master holds it) and `qpy check` of an empty list (the
 * floor of a CLI round trip) on the same box, in turns. Then what one
 * background pruning step costs the master (one transaction of PRUNE_BATCH
 * rows). The records are spread evenly over the last 90 days (so the last day
 * holds about 11,000), unless BENCH_LAST_DAY says how many the last day holds.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import Database from 'better-sqlite3';
import { openJobStore } from '../src/store/job-store.js';
import { PRUNE_BATCH } from '../src/daemons/master/history-pruner.js';
import type { Job } from '../src/protocol/job.js';
import { QPY, benchUser, conditions, summary } from './lib.js';

const TOTAL = Number(process.env['BENCH_RECORDS'] ?? 1_000_000);
const DAYS = 90;
const DAY = 86_400_000;
const LAST_DAY = Number(process.env['BENCH_LAST_DAY'] ?? Math.round(TOTAL / DAYS));
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 15);

console.log(
  `bench/history — ${conditions()}; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  `conditions: ${TOTAL} history records (${LAST_DAY} in the last day, the rest over the ${DAYS - 1} days before), ` +
    `${ROUNDS} rounds in turns; output to a pipe; local master`,
);
const u = benchUser('localhost cores=8 memory=64\n');
try {
  const db = join(u.qpyDir, 'master.db');
  openJobStore(db).close(); // the current schema
  const now = Date.now();
  const t0 = performance.now();
  const raw = new Database(db);
  const put = raw.prepare('INSERT INTO history (id, last, status, ended, cwd, doc) VALUES (?, ?, ?, ?, ?, ?)');
  const statuses = ['done', 'done', 'done', 'failed', 'killed', 'done', 'undone', 'node_failed'] as const;
  raw.transaction(() => {
    for (let i = 1; i <= TOTAL; i++) {
      // Oldest first: the first TOTAL - LAST_DAY over days 90..1 ago, the rest within the last day.
      const old = TOTAL - LAST_DAY;
      const ended = i <= old ? now - DAYS * DAY + ((i - 1) / old) * (DAYS - 1) * DAY : now - DAY + ((i - old) / (LAST_DAY + 1)) * DAY;
      const status = statuses[i % statuses.length]!;
      const cwd = `/home/alice/runs/set${i % 20}`;
      const job: Job = {
        id: i,
        spec: { command: `./fit.sh --seed ${i} --out results/${i}.h5`, cwd, cores: 1 + (i % 4), memGB: 5, attrs: null },
        queuedAt: ended - 120_000,
        state:
          status === 'undone'
            ? { type: 'undone', endedAt: ended }
            : status === 'node_failed'
              ? { type: 'node_failed', node: `node${i % 16}`, startedAt: ended - 60_000, endedAt: ended }
              : {
                  type: status,
                  node: `node${i % 16}`,
                  startedAt: ended - 60_000,
                  endedAt: ended,
                  outcome: status === 'killed' ? { type: 'signal', signal: 'TERM' } : { type: 'exit', code: status === 'done' ? 0 : 3 },
                },
      };
      put.run(i, i, status, ended, cwd, JSON.stringify(job));
    }
  })();
  raw.pragma('wal_checkpoint(TRUNCATE)');
  raw.close();
  console.log(
    `set-up: ${TOTAL} records written in ${((performance.now() - t0) / 1000).toFixed(1)} s; master.db ${(statSync(db).size / 2 ** 20).toFixed(0)} MiB`,
  );

  const since = now - DAY;
  // Wall time as a user sees it, and the command's own CPU time (user + system, bash's `time`): on a
  // loaded machine the first grows with the load, the second hardly.
  const timed = (file: string, args: string[], env = u.env): { ms: number; cpuMs: number; bytes: number } => {
    const t = performance.now();
    const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%3U %3S"; time "$@"', 'bash', file, ...args], { cwd: u.work, env, maxBuffer: 1 << 30 });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    const [user = NaN, sys = NaN] = r.stderr.toString().trim().split('\n').at(-1)!.split(' ').map(Number);
    return { ms, cpuMs: (user + sys) * 1000, bytes: r.stdout.length };
  };

  // sqlite3 reads the file while no master holds it (a running master keeps an exclusive lock).
  const sqliteOk = spawnSync('sqlite3', ['-version']).status === 0;
  const sqliteCopy = join(u.dir, 'copy.db');
  copyFileSync(db, sqliteCopy);
  const query = `SELECT doc FROM history WHERE ended >= ${since} ORDER BY ended, seq;`;

  const rows = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const add = (name: string, m: { ms: number; cpuMs: number }) => {
    rows.set(name, [...(rows.get(name) ?? []), m.ms]);
    cpu.set(name, [...(cpu.get(name) ?? []), m.cpuMs]);
  };
  timed(QPY, ['check']); // the master starts
  let lines = 0;
  let bytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const h = timed(QPY, ['history', '--since', '1d']);
    add('qpy history --since 1d', h);
    bytes = h.bytes;
    add('qpy history --since 1d --json', timed(QPY, ['history', '--since', '1d', '--json']));
    add('qpy history --since 1d failed', timed(QPY, ['history', '--since', '1d', 'failed']));
    add('qpy check (empty list: the floor)', timed(QPY, ['check']));
    if (sqliteOk) add('sqlite3 same query, same rows', timed('sqlite3', [sqliteCopy, query]));
  }
  lines =
    spawnSync(QPY, ['history', '--since', '1d'], { cwd: u.work, env: u.env, maxBuffer: 1 << 30 })
      .stdout.toString()
      .split('\n').length - 1;
  console.log(`qpy history --since 1d prints ${lines} lines (${(bytes / 2 ** 20).toFixed(1)} MiB)`);
  console.log('wall time:');
  for (const [name, ms] of rows) console.log(`  ${name.padEnd(40)} ${summary(ms)}`);
  console.log("the command's own CPU time (user + system; the master's work for it is not counted):");
  for (const [name, ms] of cpu) console.log(`  ${name.padEnd(40)} ${summary(ms)}`);
  console.log(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  if (!sqliteOk) console.log('sqlite3: not installed, no side-by-side row');

  // One pruning step, as the master takes it between dispatch passes: on a copy, every row older than 30 days due.
  const s = openJobStore(sqliteCopy);
  const steps: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const n = s.history.prune(now - 30 * DAY, null, PRUNE_BATCH);
    steps.push(performance.now() - t);
    if (n < PRUNE_BATCH) break;
  }
  s.close();
  console.log(`${`one pruning step (${PRUNE_BATCH} rows, one commit)`.padEnd(40)} ${summary(steps)}`);
} finally {
  if (process.env['BENCH_KEEP'] === undefined) u.cleanup();
  else console.log(`kept: QPY_DIR=${u.qpyDir}`);
}
