/**
 * qpy-multiuser's Slurm pool (issue 18), against a real Slurm and a real sshd
 * node: the admin's nodes file declares the pool; two users' jobs run on its
 * pilots with the group's even shares applying inside them; a pilot
 * cancelled under running jobs makes them node_failed in their masters (the
 * `nodeGone` push); a pool reached through its pilot is refused there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useCluster } from '../helpers/sshd-cluster.js';
import { admin, joinedUser, testMultiuser } from '../helpers/multiuser.js';
import { checkStatuses } from '../helpers/qpy.js';
import { slurmMissing, sshConfigForNode, startSlurm } from '../helpers/slurm.js';
import { waitFor } from '../helpers/wait.js';

const sshd = useCluster(1);
const skip = sshd.skip || slurmMissing() || false;

test('two users share a pool of qpy-multiuser; a cancelled pilot fails its jobs in their masters', { skip, timeout: 180_000 }, async () => {
  await using slurm = await startSlurm({ cpus: 4, memoryMB: 4096 });
  const sshConfig = sshConfigForNode(slurm, sshd.cluster.sshConfig);
  const env = { SLURM_CONF: slurm.conf, QPY_SSH_CONFIG: sshConfig, QPY_POOL_POLL_MS: '500', QPY_PROBE_MS: '0' };
  await using mu = testMultiuser({
    nodes: `pool grp slurm partition=${slurm.partition} nodes=2 cores=2 memory=1 time=00:10:00 idle=5 reach=ssh\n`,
    env,
  });
  await admin(mu, ['start']);
  await using ann = await joinedUser(mu, 'ann', env);
  await using ben = await joinedUser(mu, 'ben', env);
  for (const u of [ann, ben]) await u.ok(['sub', '--array', '1-6', '-m', '0.1', 'echo $QPY_NODE > on.$QPY_JOB_ID; sleep 300']);
  // 2 pilots of 2 cores: 4 jobs run, 2 of each user (even shares inside the pool).
  const running = async (u: typeof ann) =>
    [...checkStatuses(await u.ok(['check']))].filter(([, j]) => j.status === 'running').map(([id, j]) => ({ id, ...j }));
  await waitFor(async () => (await running(ann)).length === 2 && (await running(ben)).length === 2, {
    what: 'two jobs of each user running on the pilots',
    timeoutMs: 60_000,
  });
  const status = await admin(mu, ['status']);
  assert.match(status, /pool grp: partition/);
  assert.equal([...status.matchAll(/pilot \d+: RUNNING/g)].length, 2, status);
  // A person cancels one pilot: its jobs become node_failed in their masters; the rest of the queue goes on elsewhere.
  const annJob = (await running(ann))[0]!;
  const node = /on (grp-\d+);/.exec(annJob.line)![1]!;
  await slurm.run('scancel', [node.slice('grp-'.length)]);
  await waitFor(async () => checkStatuses(await ann.ok(['check'])).get(annJob.id)?.status === 'node_failed', {
    what: `ann's job ${annJob.id} node_failed`,
    timeoutMs: 30_000,
  });
  const failed = [...checkStatuses(await ann.ok(['check'])).values(), ...checkStatuses(await ben.ok(['check'])).values()].filter(
    (j) => j.status === 'node_failed',
  );
  assert.ok(
    failed.every((j) => j.line.includes(`on ${node};`)),
    failed.map((j) => j.line).join('\n'),
  );
  assert.equal(failed.length, 2);
  // A new pilot takes the place of the cancelled one.
  await waitFor(async () => (await running(ann)).length + (await running(ben)).length === 4, {
    what: 'four jobs running again',
    timeoutMs: 60_000,
  });
});

test('qpy-multiuser refuses a pool reached through its pilot, naming the line', {
  skip: slurmMissing() ?? false,
  timeout: 60_000,
}, async () => {
  await using mu = testMultiuser({
    nodes: 'pool grp slurm partition=p nodes=2 cores=2 memory=1 time=00:10:00\n',
    env: { QPY_PROBE_MS: '0' },
  });
  await admin(mu, ['start']);
  assert.match(await admin(mu, ['status']), /line 1: pool grp of qpy-multiuser needs reach=ssh/);
});
