/**
 * Cores come back from dead masters: qpy-multiuser releases the slots of a
 * master that has been away longer than its grace once the probe no longer
 * lists the jobs' tagged wrappers, keeps those whose wrapper still runs, and
 * wakes the users who wait. The "jobs" here are real processes carrying the
 * tag a wrapper carries (QPY_TAG=USER:JOB:ATTEMPT in their command line).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { testMultiuser, type TestMultiuser } from '../../helpers/multiuser.js';
import { waitFor } from '../../helpers/wait.js';

// Memory fills the node (two such jobs), not cores: the probe counts this busy machine's processes as outsiders.
const demand = { cores: 1, memGB: 18, attrs: null };

async function used(mu: TestMultiuser, user: string): Promise<number> {
  const c = await mu.admin();
  const r = await c.request({ type: 'status' });
  c.close();
  return r.type === 'status' ? (r.status.users.find((u) => u.name === user)?.usedCores ?? 0) : -1;
}

/** A process that looks like job `jobId`'s wrapper to a probe. */
function fakeWrapper(user: string, jobId: number) {
  return spawn('/bin/sh', ['-c', 'sleep 120', 'qpy-job', `QPY_TAG=${user}:${jobId}:1`], { stdio: 'ignore' });
}

test('a master away past its grace: slots of ended jobs are released and waiting users woken; running ones stay', {
  timeout: 60_000,
}, async () => {
  await using mu = testMultiuser({
    nodes: 'n1 address=localhost cores=64 memory=40\n',
    users: ['alice', 'bob'],
    env: { QPY_MASTER_GRACE_MS: '1500', QPY_PROBE_MS: '60000' },
  });
  assert.equal((await mu.start()).code, 0);
  const admin = await mu.admin();
  for (const name of ['alice', 'bob']) await admin.request({ type: 'addUser', name });
  admin.close();
  const alice = await mu.master('alice');
  await alice.request({ type: 'register', user: 'alice', running: [], queueSize: 2 });
  for (const jobId of [1, 2])
    assert.equal((await alice.request({ type: 'request', user: 'alice', jobId, demand, queueSize: 2 })).type, 'granted');
  const job1 = fakeWrapper('alice', 1);
  try {
    // Bob waits for a core.
    let wakes = 0;
    const bob = await mu.master('bob', undefined, 'master', (f) => void (f.type === 'wake' && wakes++));
    await bob.request({ type: 'register', user: 'bob', running: [], queueSize: 1 });
    assert.equal((await bob.request({ type: 'request', user: 'bob', jobId: 7, demand, queueSize: 1 })).type, 'refused');
    assert.equal(await used(mu, 'alice'), 2);

    alice.close(); // alice's master dies; job 2 has no wrapper (it ended), job 1 still runs
    await waitFor(async () => (await used(mu, 'alice')) === 1, { what: 'the slot of the ended job released', timeoutMs: 15_000 });
    await waitFor(() => wakes > 0, { what: 'bob woken' });
    assert.match(mu.log(), /user alice: master away \d+ s; released 1 slot\(s\) whose jobs have ended \(job 2 on n1\)/);
    // The ledger closed the reaped slot's row, and alice still has her two runs, one of them still held.
    const ledger = await mu.admin();
    const r = await ledger.request({ type: 'report', since: null, until: null });
    ledger.close();
    assert.deepEqual(r.type === 'report' && r.report.users.map((u) => [u.name, u.jobs]), [['alice', 2]]);
    // Bob's master is connected: his slot stays though no wrapper of his runs.
    assert.equal((await bob.request({ type: 'request', user: 'bob', jobId: 7, demand, queueSize: 1 })).type, 'granted');
    const releasedBefore = mu.log().split('released').length;

    job1.kill('SIGKILL');
    await waitFor(async () => (await used(mu, 'alice')) === 0, {
      what: 'the last slot released once its wrapper is gone',
      timeoutMs: 15_000,
    });
    assert.ok(mu.log().split('released').length > releasedBefore);
    assert.equal(await used(mu, 'bob'), 1, 'a connected master keeps its slots');
  } finally {
    job1.kill('SIGKILL');
  }
});
