/**
 * Fair sharing, measured on the real daemons: three users join one
 * qpy-multiuser with `even` rules over 2 real sshd nodes of 8 cores (their
 * masters run the jobs over SSH) and queue 1-second jobs. The daemon's
 * status is sampled every 100 ms:
 * - while all three have jobs queued, each runs its share ±1 core at every sample;
 * - when one user's queue empties, the other two take its cores within a second;
 * - when it submits again, it gets its share back as jobs end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { admin, joinedUser, testMultiuser, type TestMultiuser } from '../helpers/multiuser.js';
import type { QpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';
import { useCluster } from '../helpers/sshd-cluster.js';
import { userPaths } from '../../src/config.js';
import { readDiscovery } from '../../src/discovery.js';
import { connectTo, type MasterConnection } from '../../src/cli/connect.js';
import type { UserView } from '../../src/protocol/cluster.js';

const sshd = useCluster(2);
const skip = sshd.skip;

async function masterOf(u: QpyUser): Promise<MasterConnection> {
  await u.ok(['check']);
  const paths = userPaths(u.qpyDir);
  return connectTo(readDiscovery(paths.discovery)!, paths);
}

async function submit(c: MasterConnection, cwd: string, n: number, seconds: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, () => c.request({ type: 'submit', command: `sleep ${seconds}`, cwd, cores: 1, memGB: 0.1, attrs: null })),
  );
}

async function users(mu: TestMultiuser): Promise<Map<string, UserView>> {
  const c = await mu.admin();
  const r = await c.request({ type: 'status' });
  c.close();
  return new Map(r.type === 'status' ? r.status.users.map((u) => [u.name, u]) : []);
}

test('even, 3 users on 2×8 cores: shares ±1 at every sample, idle cores lent within a second and given back', {
  skip,
  timeout: 180_000,
}, async () => {
  const env = { QPY_SSH_CONFIG: sshd.cluster.sshConfig };
  const nodes = `${sshd.cluster.nodes.map((n) => `${n.name} address=${n.name} cores=8 memory=64`).join('\n')}\n`;
  // No probes: on this one machine the test's own daemons would count as outsiders and take cores from the shares.
  await using mu = testMultiuser({ nodes, rules: 'even\n', env: { ...env, QPY_PROBE_MS: '0' } });
  await admin(mu, ['start']);
  const names = ['ann', 'ben', 'cat'];
  const us: QpyUser[] = [];
  for (const n of names) us.push(await joinedUser(mu, n, env));
  try {
    const cs = await Promise.all(us.map(masterOf));
    // cat queues fewer jobs: its queue empties first.
    await Promise.all([submit(cs[0]!, us[0]!.work, 100, 1), submit(cs[1]!, us[1]!.work, 100, 1), submit(cs[2]!, us[2]!.work, 24, 1)]);

    // The first user to ask borrowed the idle cluster; shares settle as the first jobs end.
    await waitFor(
      async () => {
        const m = await users(mu);
        return names.every((n) => Math.abs(m.get(n)!.usedCores - (m.get(n)!.minCores + m.get(n)!.extraCores)) <= 1);
      },
      { what: 'every user at its share', timeoutMs: 15_000, intervalMs: 100 },
    );
    let samples = 0;
    for (;;) {
      const m = await users(mu);
      if (names.some((n) => m.get(n)!.queueSize === 0)) break;
      for (const n of names) {
        const u = m.get(n)!;
        const share = u.minCores + u.extraCores;
        assert.ok(Math.abs(u.usedCores - share) <= 1, `sample ${samples}: ${n} runs ${u.usedCores}, its share is ${share}`);
      }
      assert.equal([...m.values()].reduce((s, u) => s + u.usedCores, 0) >= 15, true, 'the cluster stays full');
      samples++;
      await delay(100);
    }
    assert.ok(samples >= 10, `only ${samples} samples`);

    // cat's queue is empty: once its last jobs end, ann and ben hold all 16 cores within a second.
    await waitFor(async () => (await users(mu)).get('cat')!.usedCores === 0, {
      what: 'cat’s jobs over',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    const idleAt = Date.now();
    await waitFor(
      async () => {
        const m = await users(mu);
        return m.get('ann')!.usedCores + m.get('ben')!.usedCores === 16;
      },
      { what: 'ann and ben borrow cat’s cores', timeoutMs: 1000, intervalMs: 20 },
    );
    const borrowedIn = Date.now() - idleAt;

    // cat submits again: it gets its share back as the others' 1-second jobs end.
    await submit(cs[2]!, us[2]!.work, 30, 1);
    await waitFor(
      async () => {
        const m = await users(mu);
        const cat = m.get('cat')!;
        return cat.usedCores >= cat.minCores + cat.extraCores - 1;
      },
      { what: 'cat back at its share', timeoutMs: 3000, intervalMs: 50 },
    );
    for (const c of cs) c.close();
    assert.ok(borrowedIn <= 1000, `borrowed in ${borrowedIn} ms`);
  } finally {
    for (const u of us) await u[Symbol.asyncDispose]();
  }
});
