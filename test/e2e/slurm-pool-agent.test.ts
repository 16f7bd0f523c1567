/**
 * A Slurm pool reached through its pilots (reach=agent, issue 18), against a
 * real Slurm: no SSH anywhere. Each pilot runs qpy's pilot program, which
 * connects back to the master over TLS and serves the node agent; jobs run
 * there exactly once, their output reads through the link, a pilot cancelled
 * under a job makes it node_failed and retried on a new pilot, and idle
 * pilots end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkStatuses, nodeOnceJob, qpyRunning, qpyUser } from '../helpers/qpy.js';
import { pilotLines, slurmMissing, startSlurm, type Slurm } from '../helpers/slurm.js';
import { waitFor } from '../helpers/wait.js';

const skip = slurmMissing() ?? false;

/** A user whose pool `a` (reach=agent, pilots connecting back to 127.0.0.1) has `keys` beside its partition. */
function agentPoolUser(slurm: Slurm, keys: string, env: NodeJS.ProcessEnv = {}) {
  return qpyUser({
    nodes: `pool a slurm partition=${slurm.partition} ${keys} back=127.0.0.1\n`,
    env: { SLURM_CONF: slurm.conf, QPY_POOL_POLL_MS: '500', ...env },
  });
}

const pilots = pilotLines;

test('pilots that connect back run 200 jobs each exactly once, with output, then end when idle', { skip, timeout: 180_000 }, async () => {
  await using slurm = await startSlurm({ cpus: 2, memoryMB: 2048 });
  await using u = agentPoolUser(slurm, 'nodes=2 cores=1 memory=0.5 time=00:10:00 idle=0.05');
  await u.ok(['sub', '--array', '1-200', '-m', '0.1', 'echo $QPY_JOB_ID >> ran; echo "out of $QPY_JOB_ID"']);
  await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return m.size === 200 && [...m.values()].every((j) => j.status === 'done');
    },
    { what: '200 jobs done', timeoutMs: 120_000, intervalMs: 1000 },
  );
  const ran = readFileSync(join(u.work, 'ran'), 'utf8').trim().split('\n').map(Number);
  assert.deepEqual(
    ran.sort((a, b) => a - b),
    Array.from({ length: 200 }, (_, i) => i + 1),
  );
  const on = new Set([...checkStatuses(await u.ok(['check'])).values()].map((j) => /on (a-\d+);/.exec(j.line)?.[1]));
  assert.ok(
    [...on].every((n) => n !== undefined),
    [...on].join(' '),
  );
  assert.match(await u.ok(['status']), /reached by agent/);
  await waitFor(async () => (await pilots(slurm)).length === 0, { what: 'the idle pilots ended', timeoutMs: 30_000 });
});

test('reach=agent: output followed through the link; a cancelled pilot fails its job, retried on a new pilot', {
  skip,
  timeout: 180_000,
}, async () => {
  await using slurm = await startSlurm({ cpus: 2, memoryMB: 2048 });
  await using u = agentPoolUser(slurm, 'nodes=1 cores=1 memory=0.5 time=00:10:00 idle=5', { QPY_NODE_DOWN_AFTER_MS: '60000' });
  await u.ok(['sub', '-m', '0.1', '--retry', '1', 'echo "attempt $QPY_ATTEMPT on $QPY_NODE"; [ "$QPY_ATTEMPT" = 2 ] || sleep 300']);
  const first = await nodeOnceJob(u, 1, 'running', 60_000);
  // The master reads a job's output on its node: here, through the pilot's link.
  const follow = qpyRunning(u, ['follow', '1']);
  await waitFor(() => follow.out().includes(`attempt 1 on ${first}`), { what: 'its output followed through the pilot', timeoutMs: 20_000 });
  await slurm.run('scancel', [first.slice('a-'.length)]);
  const second = await waitFor(
    () => {
      const text = readFileSync(join(u.work, 'job_1.out'), 'utf8');
      return /attempt 2 on (a-\d+)/.exec(text)?.[1];
    },
    { what: 'job 1 run again on a new pilot', timeoutMs: 60_000 },
  );
  assert.notEqual(second, first);
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(1)?.status === 'done', { what: 'job 1 done', timeoutMs: 30_000 });
  assert.match(readFileSync(join(u.qpyDir, 'events.jsonl'), 'utf8'), /"job":1,"from":"running","to":"node_failed"/);
  await follow.code; // it ended with the first run (node_failed)
});

test('reach=agent: the master SIGKILLed while a job runs on a pilot; the pilot connects to the new master, which adopts the job', {
  skip,
  timeout: 120_000,
}, async () => {
  await using slurm = await startSlurm({ cpus: 2, memoryMB: 2048 });
  await using u = agentPoolUser(slurm, 'nodes=1 cores=1 memory=0.5 time=00:10:00 idle=5');
  await u.ok(['sub', '-m', '0.1', 'while [ ! -e go ]; do sleep 0.1; done; exit 3']);
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(1)?.status === 'running', {
    what: 'job 1 running',
    timeoutMs: 60_000,
  });
  u.killMaster();
  // A new master, on a new port: the job shows `starting` until its pilot has answered, if its pid was not committed yet.
  assert.match(checkStatuses(await u.ok(['check'])).get(1)?.status ?? '', /^(running|starting)$/);
  await waitFor(async () => /pilot \d+: RUNNING[^\n]*as node a-\d+/.test(await u.ok(['status'])), {
    what: 'the pilot known again',
    timeoutMs: 30_000,
  });
  writeFileSync(join(u.work, 'go'), '');
  const line = await waitFor(
    async () => {
      const j = checkStatuses(await u.ok(['check'])).get(1);
      return j?.status === 'failed' ? j.line : null;
    },
    { what: 'job 1 ended, seen through the reconnected pilot', timeoutMs: 30_000 },
  );
  assert.ok(line.endsWith('; exit 3)'), line);
  assert.equal((await pilots(slurm)).length, 1, 'the same pilot');
});
