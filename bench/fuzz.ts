/**
 * bench/fuzz [COUNT [SEED]]: the frame fuzzer of the hostile-input suite
 * (test/helpers/fuzz/) at length: COUNT frames (default 100,000; SEED, or
 * QPY_FUZZ_SEED, replays a run) against a qpy-master and a qpy-multiuser
 * started here: the master through its user key, qpy-multiuser as a joined
 * user's master and as the admin, and the pilot hub of another master (one
 * with a Slurm pool reached through its pilots, `reach=agent`: its hub
 * starts with the master, Slurm or not) as a pilot with the pool's secret,
 * over TLS; some frames to each before the handshake. Then a genuine pilot
 * program must still connect to the hub; the hub master's memory is shown
 * after each batch.
 * Simulated users (QPY_USER), so it runs as any account; the CI run with
 * real accounts is test/e2e/hostile-input.test.ts. Prints what it tried and
 * what it found; exits 1 if it found anything.
 */
import { testMultiuser, joinedUser } from '../test/helpers/multiuser.js';
import { fuzzFrames } from '../test/helpers/fuzz/frame-fuzz.js';
import { formatReport } from '../test/helpers/fuzz/frame-report.js';
import { masterTarget, multiuserAdminTarget, multiuserMasterTarget } from '../test/helpers/fuzz/targets.js';
import { genuinePilotConnects, pilotHubTarget, rssMiB } from '../test/helpers/fuzz/pilot-hub-target.js';
import { qpyUser } from '../test/helpers/qpy.js';
import { waitFor } from '../test/helpers/wait.js';
import { pilotFilePath } from '../src/daemons/master/pools.js';
import { seedFrom } from '../test/helpers/prng.js';
import { userPaths } from '../src/config.js';
import { existsSync } from 'node:fs';

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
await using carol = qpyUser({ nodes: 'pool a slurm partition=x nodes=1 cores=1 memory=1 time=01:00:00 back=127.0.0.1\n' });
await carol.ok(['ctrlQueue', 'pause']); // starts her master, and its pilot hub
const carolPaths = userPaths(carol.qpyDir);
const pilotFile = pilotFilePath(carolPaths, 'a');
await waitFor(() => existsSync(pilotFile), { what: 'the pilot file' });
const rss = () => `hub master ${rssMiB(carol.masterPid())} MiB`;
process.stdout.write(`  ${rss()} at the start\n`);
const report = await fuzzFrames({
  seed,
  count,
  batch: 500,
  targets: [
    await masterTarget('qpy-master (alice)', userPaths(alice.qpyDir), 'alice', alice.work),
    multiuserMasterTarget('qpy-multiuser as bob’s master', mu.paths, 'bob', ['n1', 'n2']),
    multiuserAdminTarget('qpy-multiuser as admin', mu.paths, ['alice', 'bob'], ['n1', 'n2']),
    pilotHubTarget('pilot hub of qpy-master (carol)', carolPaths, pilotFile),
  ],
  progress: (line) => process.stdout.write(`  ${line}, ${rss()}\n`),
});
const genuine = await genuinePilotConnects(pilotFile, carolPaths.log);
if (genuine) report.findings.push(`pilot hub: ${genuine}`);
process.stdout.write(`${formatReport(report)}\n  then: a genuine pilot ${genuine ? 'did NOT connect' : 'connected'}; ${rss()}\n`);
process.exitCode = report.findings.length ? 1 : 0;
