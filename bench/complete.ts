/**
 * bench/complete: how long `qpy __complete` (what bash runs on every TAB)
 * takes, beside `node -e 0` (Node's own start) measured in the same run,
 * interleaved: options (no lookup), job IDs and directories from a running
 * master, and node attributes. Target: each p50 under 150 ms, and within
 * 40 ms of `node -e 0`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchUser, conditions, summary } from './lib.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 20);
console.log(`bench/complete — ${conditions()}`);
const u = benchUser();
// Without NODE_EXTRA_CA_CERTS, as bin/qpy runs node: parsing a CA bundle at start would cost the baseline alone tens of ms.
const { NODE_EXTRA_CA_CERTS: _ca, ...plainEnv } = process.env;
const nodeStart = () =>
  new Promise<void>((res, rej) => execFile(process.execPath, ['-e', '0'], { env: plainEnv }, (err) => (err ? rej(err) : res())));
try {
  await u.qpy(['ctrlQueue', 'pause']);
  for (let i = 0; i < 20; i++) await u.qpy(['sub', 'true']);
  for (const d of ['results', 'runs', 'scripts']) mkdirSync(join(u.work, d));
  const cases: [string, () => Promise<unknown>][] = [
    ['node -e 0', nodeStart],
    ["qpy __complete 2 sub '-'  (options)", () => u.qpy(['__complete', '2', 'sub', '-'])],
    ["qpy __complete 2 kill ''  (20 IDs + dirs)", () => u.qpy(['__complete', '2', 'kill', ''])],
    ['qpy __complete 2 check 1  (IDs by prefix)', () => u.qpy(['__complete', '2', 'check', '1'])],
    ["qpy __complete 3 sub -a '' (attributes)", () => u.qpy(['__complete', '3', 'sub', '-a', ''])],
  ];
  const times = cases.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, [, run]] of cases.entries()) {
      const t = performance.now();
      await run();
      times[i]!.push(performance.now() - t);
    }
  }
  for (const [i, [name]] of cases.entries()) console.log(`${name.padEnd(44)} ${summary(times[i]!)}`);
  console.log('(target: each qpy p50 < 150 ms and within 40 ms of node -e 0)');
} finally {
  u.cleanup();
}
