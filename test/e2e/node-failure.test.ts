/**
 * A node that dies mid-run and comes back (issue 3, item 4), on real sshd
 * nodes: its sshd and sessions are SIGKILLed while jobs run there. Past the
 * down timeout the node shows `(down)`, its jobs are node_failed with their
 * slots released, and new jobs avoid it; when its sshd is back, what was left
 * of those jobs is killed and the node runs jobs again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useCluster } from '../helpers/sshd-cluster.js';
import { checkStatuses, qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';
import { isAlive } from '../helpers/procs.js';

const sshd = useCluster(2);
const skip = sshd.skip;

test('an sshd killed mid-run: node down, its jobs node_failed, slots released; back again: leftovers killed, node used', {
  skip,
  timeout: 120_000,
}, async () => {
  const [a, b] = sshd.cluster.nodes.map((n) => n.name) as [string, string];
  const nodes = `${sshd.cluster.nodes.map((n) => `${n.name} address=${n.name} cores=2 memory=64`).join('\n')}\n`;
  await using u = qpyUser({
    nodes,
    env: { QPY_SSH_CONFIG: sshd.cluster.sshConfig, QPY_NODE_DOWN_AFTER_MS: '1500', QPY_KILL_GRACE_MS: '500' },
  });
  const holdOn = 'sleep 300 & echo $! > child.$QPY_JOB_ID; wait';
  await u.ok(['sub', '-a', b, holdOn]); // 1
  await u.ok(['sub', '-a', b, holdOn]); // 2
  await u.ok(['sub', '-a', a, 'sleep 300']); // 3
  await waitFor(async () => [...checkStatuses(await u.ok(['check'])).values()].filter((j) => j.status === 'running').length === 3, {
    what: 'three jobs running',
    timeoutMs: 20_000,
  });
  const children = await waitFor(
    () => {
      try {
        return [1, 2].map((id) => Number(readFileSync(join(u.work, `child.${id}`), 'utf8')));
      } catch {
        return null;
      }
    },
    { what: 'the jobs on the second node report their children' },
  );

  await sshd.cluster.crash(1);
  const down = await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return m.get(1)?.status === 'node_failed' && m.get(2)?.status === 'node_failed' ? m : null;
    },
    { what: 'the jobs of the second node node_failed', timeoutMs: 20_000 },
  );
  assert.match(down.get(1)!.line, new RegExp(`on ${b}; .*; node went down\\)$`));
  assert.equal(down.get(3)!.status, 'running', 'the job on the first node is unaffected');
  const status = await u.ok(['status']);
  assert.match(status, new RegExp(`^${b} \\(down\\) +0 +2 `, 'm'), 'down, and its slots released');
  assert.match(status, new RegExp(`^${a} +1 +2 `, 'm'));
  assert.ok(children.every(isAlive), 'nothing can kill the jobs while their node is unreachable');

  // New work avoids the dead node; a job only the second node can run waits for it.
  await u.ok(['sub', '-a', b, 'echo "$QPY_NODE"']); // 4
  await u.ok(['sub', 'echo "$QPY_NODE"']); // 5
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(5)?.status === 'done', {
    what: 'job 5 done on the first node',
    timeoutMs: 20_000,
  });
  assert.equal(readFileSync(join(u.work, 'job_5.out'), 'utf8'), `${a}\n`);
  assert.equal(checkStatuses(await u.ok(['check'])).get(4)?.status, 'queue');

  const early = await u.qpy(['retry', 'failed']);
  assert.equal(early.code, 1, 'no retry while what is left of the jobs may still run on the dead node');
  assert.match(
    early.stderr,
    new RegExp(
      `^qpy: not queued again: job 1 \\(on ${b}\\), 2 \\(on ${b}\\) may still run on a node that has not answered since it went down`,
    ),
  );
  await sshd.cluster.start(1);
  await waitFor(() => children.every((pid) => !isAlive(pid)), { what: 'the leftovers of the node_failed jobs killed', timeoutMs: 60_000 });
  const back = await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return m.get(4)?.status === 'done' ? m : null;
    },
    { what: 'job 4 done on the second node', timeoutMs: 30_000 },
  );
  assert.equal(readFileSync(join(u.work, 'job_4.out'), 'utf8'), `${b}\n`);
  assert.equal(back.get(1)!.status, 'node_failed', 'a node_failed job stays node_failed');
  assert.doesNotMatch(await u.ok(['status']), /\(down\)/);

  // Now they can run again, under their IDs, their lost run kept as an attempt.
  assert.equal(await u.ok(['retry', 'failed']), '2 jobs queued again.\n');
  await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return m.get(1)?.status === 'running' && m.get(2)?.status === 'running';
    },
    { what: 'the retried jobs running', timeoutMs: 20_000 },
  );
  assert.match(await u.ok(['check', '1']), /; attempt 2\)$/m);
  await u.ok(['kill', '1', '2']);
  await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return m.get(1)?.status === 'killed' && m.get(2)?.status === 'killed';
    },
    { what: 'the retried jobs killed' },
  );
  await u.ok(['sub', '-a', b, holdOn]); // 6
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(6)?.status === 'running', { what: 'job 6 running' });
  await sshd.cluster.crash(1);
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(6)?.status === 'node_failed', { what: 'job 6 node_failed' });
  await sshd.cluster.start(1);
  await waitFor(
    () => {
      try {
        return !isAlive(Number(readFileSync(join(u.work, 'child.6'), 'utf8')));
      } catch {
        return false;
      }
    },
    { what: 'the leftovers of job 6 killed', timeoutMs: 60_000 },
  );
  assert.match(await u.ok(['clean', 'node_failed']), /^1 finished job removed/);
  const left = checkStatuses(await u.ok(['check']));
  assert.equal(left.has(6), false, 'node_failed jobs are cleanable');
  await u.ok(['kill', '3']);
});
