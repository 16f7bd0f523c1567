/**
 * The hostile-input suite with real Unix accounts (issue 13; as root, as CI
 * runs): an admin account runs qpy-multiuser over 2 sshd nodes, alice's
 * master runs under her uid, bob has joined; beside them a master of its
 * own (simulated user, QPY_DIR) with a Slurm pool reached through its
 * pilots, whose pilot hub listens (no Slurm needed). The frame fuzzer sends
 * 2,000 frames made from the protocol schemas and mutated (QPY_FUZZ_FRAMES
 * to change) to alice's master through her user key, to qpy-multiuser as
 * bob's master and as the admin, and to the pilot hub as a pilot (TLS, the
 * pool's secret), some before the handshake; a genuine pilot program must
 * then still connect to the hub. Then the
 * CLI-argument fuzzer runs 500 random `qpy` invocations as alice. Each prints
 * what it tried and found, with its seed (QPY_FUZZ_SEED replays a run).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { useSite } from '../helpers/real-site.js';
import { fuzzFrames } from '../helpers/fuzz/frame-fuzz.js';
import { formatReport } from '../helpers/fuzz/frame-report.js';
import { masterTarget, multiuserAdminTarget, multiuserMasterTarget } from '../helpers/fuzz/targets.js';
import { fuzzCli, formatCliReport } from '../helpers/fuzz/cli-fuzz.js';
import { seedFrom } from '../helpers/prng.js';
import { genuinePilotConnects, pilotHubTarget } from '../helpers/fuzz/pilot-hub-target.js';
import { qpyUser, type QpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';
import { userPaths } from '../../src/config.js';
import { pilotFilePath } from '../../src/daemons/master/pools.js';
import { existsSync } from 'node:fs';

const s = useSite({ nodes: 2, adminEnv: { QPY_PROBE_MS: '2000' } });
const opts = { skip: s.skip, timeout: 240_000 };
const seed = seedFrom(process.env['QPY_FUZZ_SEED']);
const frames = Number(process.env['QPY_FUZZ_FRAMES'] ?? 2000);
let ready = false;
let pooled: QpyUser | null = null;
after(async () => await pooled?.[Symbol.asyncDispose]());

test('set-up: qpy-multiuser over 2 sshd nodes; alice joins and her master runs (queue paused); bob joins', opts, async () => {
  const { site } = s;
  const nodes = `${site.cluster.nodes.map((n) => `${n.name} address=${n.name} cores=4 memory=16`).join('\n')}\n`;
  const setUp = await site.accounts.run(site.admin, '/bin/sh', ['-c', 'mkdir -m 700 ~/.qpy-multiuser && cat > ~/.qpy-multiuser/nodes'], {
    input: nodes,
  });
  assert.equal(setUp.code, 0, setUp.stderr);
  await site.adminOk(['start']);
  for (const u of [site.alice, site.bob]) {
    const r = await site.join(u, await site.invite(u));
    assert.equal(r.code, 0, r.stderr);
  }
  assert.match(await site.ok(site.alice, ['ctrlQueue', 'pause']), /paused/);
  assert.ok(site.masterPid(site.alice), 'alice’s master runs');
  pooled = qpyUser({ nodes: 'pool a slurm partition=x nodes=1 cores=1 memory=1 time=01:00:00 back=127.0.0.1\n' });
  await pooled.ok(['ctrlQueue', 'pause']); // starts that master, and its pilot hub
  await waitFor(() => existsSync(pilotFilePath(userPaths(pooled!.qpyDir), 'a')), { what: 'the pool’s pilot file' });
  ready = true;
});

test(
  `frame fuzz: ${frames} frames from the protocol schemas, valid and mutated, ` +
    'to alice’s master, to qpy-multiuser (as bob’s master, as the admin) and to a master’s pilot hub (as a pilot), ' +
    'and before the handshake; then a genuine pilot still connects to the hub',
  opts,
  async (t) => {
    const { site } = s;
    assert.ok(ready, 'needs the set-up');
    const nodes = site.cluster.nodes.map((n) => n.name);
    const hubPaths = userPaths(pooled!.qpyDir);
    const pilotFile = pilotFilePath(hubPaths, 'a');
    const report = await fuzzFrames({
      seed,
      count: frames,
      batch: 200,
      targets: [
        await masterTarget(`qpy-master (${site.alice.name})`, site.qpyPaths(site.alice), site.alice.name, site.alice.home),
        multiuserMasterTarget(`qpy-multiuser as ${site.bob.name}’s master`, site.paths, site.bob.name, nodes),
        multiuserAdminTarget(
          'qpy-multiuser as admin',
          site.paths,
          [site.alice.name, site.bob.name, site.carol.name, site.mallory.name],
          nodes,
        ),
        pilotHubTarget('pilot hub of a qpy-master', hubPaths, pilotFile),
      ],
    });
    const genuine = await genuinePilotConnects(pilotFile, hubPaths.log);
    if (genuine) report.findings.push(`pilot hub: ${genuine}`);
    const text = formatReport(report);
    for (const line of text.split('\n')) t.diagnostic(line);
    assert.equal(report.findings.length, 0, `replay with QPY_FUZZ_SEED=${seed}:\n${text}`);
  },
);

test(
  'CLI fuzz: 500 random qpy invocations as alice: each exits 0 or 1, an error is one line, no stack trace, her master survives',
  opts,
  async (t) => {
    const { site } = s;
    assert.ok(ready, 'needs the set-up');
    const report = await fuzzCli({
      seed,
      count: Number(process.env['QPY_FUZZ_INVOCATIONS'] ?? 500),
      run: (args, input) => site.qpy(site.alice, args, { input: input ?? '', cwd: site.alice.home, timeoutMs: 30_000 }),
      masterPid: () => site.masterPid(site.alice),
    });
    const text = formatCliReport(report);
    for (const line of text.split('\n')) t.diagnostic(line);
    assert.equal(report.findings.length, 0, `replay with QPY_FUZZ_SEED=${seed}:\n${text}`);
  },
);
