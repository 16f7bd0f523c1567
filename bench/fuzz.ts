/**
 * bench/fuzz [COUNT [SEED]]: the frame fuzzer of the hostile-input suite
 * (test/helpers/fuzz/) at length: COUNT frames (default 100,000; SEED, or
 * QPY_FUZZ_SEED, replays a run) against a qpy-master and a qpy-multiuser
 * started here: the master through its user key, qpy-multiuser as a joined
 * user's master and as the admin, and some frames before the handshake.
 * Simulated users (QPY_USER), so it runs as any account; the CI run with
 * real accounts is test/e2e/hostile-input.test.ts. Prints what it tried and
 * what it found; exits 1 if it found anything.
 */
import { testMultiuser, joinedUser } from '../test/helpers/multiuser.js';
import { fuzzFrames } from '../test/helpers/fuzz/frame-fuzz.js';
import { formatReport } from '../test/helpers/fuzz/frame-report.js';
import { masterTarget, multiuserAdminTarget, multiuserMasterTarget } from '../test/helpers/fuzz/targets.js';
import { seedFrom } from '../test/helpers/prng.js';
import { userPaths } from '../src/config.js';

const count = Number(process.argv[2] ?? 100_000);
const seed = seedFrom(process.argv[3] ?? process.env['QPY_FUZZ_SEED']);
if (!Number.isSafeInteger(count) || count < 1) {
  process.stderr.write('usage: bench/fuzz [COUNT [SEED]]\n');
  process.exit(1);
}
process.stdout.write(`bench/fuzz: ${count} frames, seed ${seed} (replay: bench/fuzz ${count} ${seed})\n`);

await using mu = testMultiuser({
  nodes: 'n1 address=localhost cores=4 memory=16\nn2 address=localhost cores=2 memory=8 attributes=big\n',
  env: { QPY_PROBE_MS: '0' },
});
const started = await mu.start();
if (started.code !== 0) throw new Error(`qpy-multiuser did not start: ${started.stderr}`);
await using alice = await joinedUser(mu, 'alice');
await alice.ok(['check']); // starts her master
await using bob = await joinedUser(mu, 'bob'); // his key only: the fuzzer speaks as his master
void bob;
const report = await fuzzFrames({
  seed,
  count,
  batch: 500,
  targets: [
    await masterTarget('qpy-master (alice)', userPaths(alice.qpyDir), 'alice', alice.work),
    multiuserMasterTarget('qpy-multiuser as bob’s master', mu.paths, 'bob', ['n1', 'n2']),
    multiuserAdminTarget('qpy-multiuser as admin', mu.paths, ['alice', 'bob'], ['n1', 'n2']),
  ],
  progress: (line) => process.stdout.write(`  ${line}\n`),
});
process.stdout.write(`${formatReport(report)}\n`);
process.exitCode = report.findings.length ? 1 : 0;
