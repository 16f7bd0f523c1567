/**
 * bench/cli-start: `qpy --version`, `qpy sub` and `qpy sub -W` of /bin/true
 * (fork to exit, as a shell runs them) from the V8 start-up snapshot and from
 * the bundle, against `node -e 0`, in turns. `--quick`: fewer rounds.
 */
import { benchUser, conditions } from './lib.js';
import { measureStart, startTable, TARGET_OVER_NODE_MS } from './start-measure.js';

const quick = process.argv.includes('--quick');
const rounds = Number(process.env['BENCH_ROUNDS'] ?? (quick ? 15 : 60));
console.log(`bench/cli-start — ${conditions()}`);
console.log(`conditions: ${rounds} rounds, commands in turns; one master, local node of 8 cores; jobs /bin/true with -m 0`);
const u = benchUser('localhost cores=8 memory=64\n');
try {
  await u.qpy(['check']); // the master is started before the rounds
  const f = measureStart(u, rounds, true);
  for (const line of startTable(f)) console.log(line);
  const sub = f.rows.get('qpy sub (snapshot)')!;
  const subWait = f.rows.get('qpy sub -W (snapshot)')!;
  console.log(
    `targets (median over node -e 0): qpy sub +${(sub.median - f.node.median).toFixed(1)} ms (target ≤ +${TARGET_OVER_NODE_MS.sub}), qpy sub -W +${(subWait.median - f.node.median).toFixed(1)} ms (target ≤ +${TARGET_OVER_NODE_MS.subWait})`,
  );
} finally {
  u.cleanup();
}
