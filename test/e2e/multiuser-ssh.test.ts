/**
 * The whole shared set-up on real sshd nodes: qpy-multiuser (probing its
 * nodes over SSH) and three simulated users whose masters run their jobs
 * over SSH on the nodes it grants. While jobs run and wait, the daemon is
 * SIGKILLed and started again, and the nodes file is reloaded (a node
 * removed, one added, one's cores cut). Every 100 ms the test counts the
 * jobs really running on each node (their wrappers' QPY_NODE): no node ever
 * runs more jobs than it has cores. At the end every job ran exactly once
 * and ended with its own exit code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { useCluster } from '../helpers/sshd-cluster.js';
import { admin, joinedUser, testMultiuser } from '../helpers/multiuser.js';
import { checkStatuses, type QpyUser } from '../helpers/qpy.js';
import { procTable } from '../helpers/procs.js';
import { waitFor } from '../helpers/wait.js';

const sshd = useCluster(4);
const skip = sshd.skip;

/** Jobs really running now, per node: live qpy-job wrappers of these users, by their QPY_NODE. */
function runningPerNode(runDirs: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of procTable()) {
    if (p.state === 'Z' || p.state === 'X') continue;
    let argv: string[];
    let env: string;
    try {
      argv = readFileSync(`/proc/${p.pid}/cmdline`, 'latin1').split('\0');
      env = readFileSync(`/proc/${p.pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    // The wrapper: sh -c WRAPPER qpy-job RUN KEY …, whose QPY_NODE was exported to the job.
    const at = argv.indexOf('qpy-job');
    if (at < 0 || !runDirs.includes(argv[at + 1]!)) continue;
    const node = /(?:^|\0)QPY_NODE=([^\0]*)/.exec(env)?.[1];
    if (node === undefined) continue; // exports happen a moment after the wrapper starts
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  return counts;
}

test('3 users on 4 sshd nodes: daemon SIGKILLed and restarted, nodes reloaded, no node ever over-committed, every job once', {
  skip,
  timeout: 240_000,
}, async () => {
  const [n2, n3, n4, n5] = sshd.cluster.nodes.map((n) => n.name) as [string, string, string, string];
  const env = { QPY_SSH_CONFIG: sshd.cluster.sshConfig, QPY_PROBE_MS: '1000' };
  await using mu = testMultiuser({
    nodes: `${n2} address=${n2} cores=4 memory=16\n${n3} address=${n3} cores=4 memory=16\n${n4} address=${n4} cores=4 memory=16\n`,
    env,
  });
  await admin(mu, ['start']);
  const us: QpyUser[] = [];
  for (const name of ['ann', 'ben', 'cat']) {
    us.push(await joinedUser(mu, name, env));
  }
  const runDirs = us.map((u) => join(u.qpyDir, 'run'));
  const cores = new Map([
    [n2, 4],
    [n3, 4],
    [n4, 4],
    [n5, 0],
  ]);
  let cutN2 = false; // after the reload: once n2 runs no more than its new 2 cores, it must stay so
  let samples = 0;
  let worst = '';
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const now = runningPerNode(runDirs);
      if (cutN2 && (now.get(n2) ?? 0) <= 2) cores.set(n2, 2);
      for (const [node, n] of now) {
        const limit = cores.get(node) ?? 0;
        if (n > limit && !worst) worst = `${node} ran ${n} jobs with ${limit} cores (sample ${samples})`;
      }
      samples++;
      await delay(100);
    }
  })();

  try {
    const JOBS = 15;
    const cmd = 'echo ran >> ran.$QPY_JOB_ID; sleep 1.5; exit $((QPY_JOB_ID % 4))';
    for (const u of us) for (let i = 0; i < JOBS; i++) await u.ok(['sub', '-m', '1', cmd]);
    await waitFor(
      async () =>
        (
          await Promise.all(
            us.map(async (u) =>
              [...checkStatuses(await u.ok(['check'])).values()].some((j) => j.status === 'done' || j.status === 'failed'),
            ),
          )
        ).every(Boolean),
      { what: 'every user has had a job end', timeoutMs: 60_000 },
    );

    // SIGKILL the daemon mid-run, then start it again.
    await mu.kill();
    await delay(500);
    await admin(mu, ['start']);

    // Reload: n4 removed (its jobs finish), n5 added, n2 cut to 2 cores.
    cores.set(n5, 4);
    writeFileSync(
      mu.paths.nodes,
      `${n2} address=${n2} cores=2 memory=16\n${n3} address=${n3} cores=4 memory=16\n${n5} address=${n5} cores=4 memory=16\n`,
    );
    const reloaded = await admin(mu, ['nodes']);
    assert.match(reloaded, new RegExp(`Added: ${n5}\\.`));
    assert.match(reloaded, new RegExp(`Removed \\(they finish their jobs first\\): ${n4}\\.`));
    assert.match(reloaded, new RegExp(`Changed: ${n2}\\.`));
    // Jobs already on n2 may finish; from the moment it runs 2 or fewer, it must never run more.
    cutN2 = true;

    const finals = await waitFor(
      async () => {
        const all = await Promise.all(us.map(async (u) => checkStatuses(await u.ok(['check']))));
        return all.every((m) => m.size === JOBS && [...m.values()].every((j) => j.status === 'done' || j.status === 'failed')) ? all : null;
      },
      { what: 'all 45 jobs final', timeoutMs: 120_000 },
    );
    assert.equal(worst, '', worst);
    assert.ok(samples > 50, `${samples} samples`);
    for (const [k, u] of us.entries()) {
      for (const [id, j] of finals[k]!) {
        const code = id % 4;
        assert.equal(j.status, code === 0 ? 'done' : 'failed', j.line);
        assert.ok(j.line.endsWith(`; exit ${code})`), j.line);
        assert.equal(readFileSync(join(u.work, `ran.${id}`), 'utf8'), 'ran\n', `job ${id} of user ${k} ran exactly once`);
      }
      assert.deepEqual(readdirSync(u.work).filter((f) => f.startsWith('ran.')).length, JOBS);
    }
    const status = await waitFor(
      async () => {
        const s = await admin(mu, ['status']);
        // A job is final for its master a moment before its slot's release reaches the daemon: wait for
        // every release (a slot never released times out here).
        const released = /^There are 0 out of a total of \d+ cores being used\.$/m.test(s);
        return new RegExp(`^${n4}`, 'm').test(s) || !new RegExp(`^${n5} +0 +4 `, 'm').test(s) || !released ? null : s;
      },
      { what: 'the removed node gone once its last slot is released, and every slot released' },
    );
    assert.match(status, /^There are 0 out of a total of 10 cores being used\.$/m);
  } finally {
    sampling = false;
    await sampler;
    for (const u of us) await u[Symbol.asyncDispose]();
  }
});
