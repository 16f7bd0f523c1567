/**
 * The hostile-input suite with real Unix accounts (issue 13; as root, as CI
 * runs): an admin account runs qpy-multiuser over 2 sshd nodes, alice's
 * master runs under her uid, bob has joined. The frame fuzzer sends 2,000
 * frames made from the protocol schemas and mutated (QPY_FUZZ_FRAMES to
 * change) to alice's master through her user key, and to qpy-multiuser as
 * bob's master and as the admin, some before the handshake; then the
 * CLI-argument fuzzer runs 500 random `qpy` invocations as alice. Each prints
 * what it tried and found, with its seed (QPY_FUZZ_SEED replays a run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useSite } from '../helpers/real-site.js';
import { fuzzFrames } from '../helpers/fuzz/frame-fuzz.js';
import { formatReport } from '../helpers/fuzz/frame-report.js';
import { masterTarget, multiuserAdminTarget, multiuserMasterTarget } from '../helpers/fuzz/targets.js';
import { fuzzCli, formatCliReport } from '../helpers/fuzz/cli-fuzz.js';
import { seedFrom } from '../helpers/prng.js';

const s = useSite({ nodes: 2, adminEnv: { QPY_PROBE_MS: '2000' } });
const opts = { skip: s.skip, timeout: 240_000 };
const seed = seedFrom(process.env['QPY_FUZZ_SEED']);
const frames = Number(process.env['QPY_FUZZ_FRAMES'] ?? 2000);
let ready = false;

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
  ready = true;
});

test(
  `frame fuzz: ${frames} frames from the protocol schemas, valid and mutated, ` +
    'to alice’s master and to qpy-multiuser (as bob’s master, as the admin, and before the handshake)',
  opts,
  async (t) => {
    const { site } = s;
    assert.ok(ready, 'needs the set-up');
    const nodes = site.cluster.nodes.map((n) => n.name);
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
      ],
    });
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
