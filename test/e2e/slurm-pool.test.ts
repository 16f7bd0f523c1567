/**
 * A user's own Slurm pool (issue 18) against a real Slurm (test/helpers/slurm.ts)
 * and real sshd nodes (reach=ssh): pilots are submitted while jobs wait, their
 * hosts join the node list, jobs run there exactly once, idle pilots end, a
 * pilot cancelled under its jobs makes them node_failed (retried on another
 * pilot), and `why` tells of a pilot that Slurm keeps pending.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useCluster } from '../helpers/sshd-cluster.js';
import { checkStatuses, nodeOnceJob, qpyUser } from '../helpers/qpy.js';
import { occupySlurm, pilotLines, slurmMissing, sshConfigForNode, startSlurm, type Slurm } from '../helpers/slurm.js';
import { waitFor } from '../helpers/wait.js';

const sshd = useCluster(1);
const skip = sshd.skip || slurmMissing() || false;

const pilots = pilotLines;

function poolUser(slurm: Slurm, line: string, env: NodeJS.ProcessEnv = {}) {
  return qpyUser({
    nodes: `${line}\n`,
    env: {
      SLURM_CONF: slurm.conf,
      QPY_SSH_CONFIG: sshConfigForNode(slurm, sshd.cluster.sshConfig),
      QPY_POOL_POLL_MS: '500',
      QPY_NODE_DOWN_AFTER_MS: '5000',
      ...env,
    },
  });
}

test('a pool of 2 pilots runs 500 jobs each exactly once, then its idle pilots end', { skip, timeout: 240_000 }, async () => {
  await using slurm = await startSlurm({ cpus: 2, memoryMB: 2048 });
  await using u = poolUser(slurm, `pool p slurm partition=${slurm.partition} nodes=2 cores=1 memory=0.5 time=00:10:00 idle=0.05 reach=ssh`);
  assert.match(await u.ok(['sub', '--array', '1-500', '-m', '0.1', 'echo $QPY_JOB_ID >> ran']), /Jobs 1-500 received/);
  await waitFor(async () => (await pilots(slurm)).length === 2, { what: 'two pilots in Slurm', timeoutMs: 30_000 });
  const status = await waitFor(
    async () => {
      const s = await u.ok(['status']);
      return /p-\d+/.test(s) ? s : null;
    },
    { what: 'a pilot node in status', timeoutMs: 30_000 },
  );
  assert.match(status, /pool p/);
  await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return m.size === 500 && [...m.values()].every((j) => j.status === 'done');
    },
    { what: '500 jobs done', timeoutMs: 150_000, intervalMs: 1000 },
  );
  const ran = readFileSync(join(u.work, 'ran'), 'utf8').trim().split('\n').map(Number);
  assert.equal(ran.length, 500);
  assert.deepEqual(
    [...ran].sort((a, b) => a - b),
    Array.from({ length: 500 }, (_, i) => i + 1),
  );
  const nodes = new Set([...checkStatuses(await u.ok(['check'])).values()].map((j) => /on (p-\d+);/.exec(j.line)?.[1]));
  assert.ok(nodes.size >= 1 && [...nodes].every((n) => n !== undefined), `jobs ran on pilot nodes: ${[...nodes].join(' ')}`);
  // Idle for 3 s: both pilots end, and leave the node list.
  await waitFor(async () => (await pilots(slurm)).length === 0, { what: 'the idle pilots ended', timeoutMs: 30_000 });
  await waitFor(async () => !/p-\d+/.test(await u.ok(['status'])), { what: 'no pilot node in status', timeoutMs: 10_000 });
});

test('scancel of a pilot under a running job: node_failed, retried on another pilot, its leftover killed', {
  skip,
  timeout: 180_000,
}, async () => {
  await using slurm = await startSlurm({ cpus: 2, memoryMB: 2048 });
  await using u = poolUser(slurm, `pool p slurm partition=${slurm.partition} nodes=2 cores=1 memory=0.5 time=00:10:00 idle=5 reach=ssh`);
  const cmd = 'echo "$QPY_ATTEMPT $QPY_NODE $$" >> runs.$QPY_JOB_ID; [ "$QPY_ATTEMPT" = 2 ] || sleep 300';
  await u.ok(['sub', '-m', '0.1', '--retry', '1', cmd]);
  await u.ok(['sub', '-m', '0.1', cmd]);
  const first = await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      const on = [1, 2].map((id) => /on (p-\d+);/.exec(m.get(id)?.line ?? '')?.[1]);
      return on.every((n) => n !== undefined) && m.get(1)?.status === 'running' ? on : null;
    },
    { what: 'both jobs running on pilots', timeoutMs: 60_000 },
  );
  assert.notEqual(first[0], first[1]);
  const victim = first[0]!.slice('p-'.length);
  const pid = Number(readFileSync(join(u.work, 'runs.1'), 'utf8').trim().split(' ')[2]);
  await slurm.run('scancel', [victim]);
  // Job 1 becomes node_failed, then runs again on a new pilot (the other one is busy with job 2).
  const runs = await waitFor(
    () => {
      const lines = readFileSync(join(u.work, 'runs.1'), 'utf8').trim().split('\n');
      return lines.length === 2 ? lines : null;
    },
    { what: 'job 1 run a second time', timeoutMs: 60_000 },
  );
  assert.match(runs[1]!, /^2 p-\d+ /);
  assert.notEqual(runs[1]!.split(' ')[1], first[0]);
  assert.notEqual(runs[1]!.split(' ')[1], first[1]);
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(1)?.status === 'done', { what: 'job 1 done', timeoutMs: 30_000 });
  assert.match(readFileSync(join(u.qpyDir, 'events.jsonl'), 'utf8'), /"job":1,"from":"running","to":"node_failed","node":"p-\d+"/);
  // What was left of its first run on the host (SSH put it outside the Slurm job) was killed.
  await waitFor(
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    { what: `the first run's process ${pid} killed`, timeoutMs: 20_000 },
  );
  assert.equal(checkStatuses(await u.ok(['check'])).get(2)?.status, 'running');
});

test('why tells of a pilot Slurm keeps pending, with its job ID and reason', { skip, timeout: 120_000 }, async () => {
  await using slurm = await startSlurm({ cpus: 2, memoryMB: 2048 });
  // Something else holds the whole Slurm node.
  await occupySlurm(slurm, 2);
  await using u = poolUser(slurm, `pool p slurm partition=${slurm.partition} nodes=1 cores=1 memory=0.5 time=00:10:00 reach=ssh`);
  await u.ok(['sub', '-m', '0.1', 'true']);
  const why = await waitFor(
    async () => {
      const text = await u.ok(['why', '1']);
      return /pending: Resources/.test(text) ? text : null;
    },
    { what: 'why names the pending pilot', timeoutMs: 30_000 },
  );
  const id = (await pilots(slurm))[0]!.split(' ')[0]!;
  assert.match(why, new RegExp(`pool p: waiting for Slurm to start a pilot \\(job ${id}, pending: Resources\\)`));
  assert.match(await u.ok(['status']), new RegExp(`pilot ${id}: PENDING \\(Resources\\)`));
});

test('SIGKILL the master while jobs run on a pilot: the restarted master knows the pilot again and adopts them', {
  skip,
  timeout: 120_000,
}, async () => {
  await using slurm = await startSlurm({ cpus: 2, memoryMB: 2048 });
  await using u = poolUser(slurm, `pool p slurm partition=${slurm.partition} nodes=1 cores=2 memory=0.5 time=00:10:00 idle=5 reach=ssh`);
  await u.ok(['sub', '--array', '1-2', '-m', '0.1', 'while [ ! -e go ]; do sleep 0.1; done; exit $QPY_JOB_ID']);
  await waitFor(async () => [...checkStatuses(await u.ok(['check'])).values()].every((j) => j.status === 'running'), {
    what: 'both jobs running on the pilot',
    timeoutMs: 60_000,
  });
  u.killMaster();
  const check = checkStatuses(await u.ok(['check'])); // a new master
  assert.deepEqual(
    [...check.values()].map((j) => j.status),
    ['running', 'running'],
  );
  writeFileSync(join(u.work, 'go'), '');
  const final = await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return [...m.values()].every((j) => j.status === 'failed') ? m : null;
    },
    { what: 'both jobs ended with their own exit codes', timeoutMs: 30_000 },
  );
  for (const id of [1, 2]) assert.ok(final.get(id)!.line.endsWith(`; exit ${id})`), final.get(id)!.line);
  assert.equal((await pilots(slurm)).length, 1, 'the pilot was kept: it is the same one');
});

test('a pilot that starts is known at once from the word it leaves, not at the next squeue', { skip, timeout: 120_000 }, async () => {
  await using slurm = await startSlurm({ cpus: 2, memoryMB: 2048 });
  const blocker = await occupySlurm(slurm, 2);
  // One squeue a minute: the test would time out waiting for the second one.
  await using u = poolUser(slurm, `pool p slurm partition=${slurm.partition} nodes=1 cores=1 memory=0.5 time=00:10:00 reach=ssh`, {
    QPY_POOL_POLL_MS: '60000',
  });
  await u.ok(['sub', '-m', '0.1', 'true']);
  await waitFor(async () => /pilot \d+: SUBMITTED/.test(await u.ok(['status'])), { what: 'the pilot submitted', timeoutMs: 30_000 });
  await slurm.run('scancel', [blocker]);
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(1)?.status === 'done', {
    what: 'the job done on the pilot, well before a second squeue',
    timeoutMs: 30_000,
  });
});

test('a pilot near its end takes no job whose -t would outlast it: that job runs on the next pilot', {
  skip,
  timeout: 150_000,
}, async () => {
  await using slurm = await startSlurm({ cpus: 2, memoryMB: 2048 });
  // 1-minute pilots (Slurm counts limits in whole minutes): a job must end 3 s before its pilot; in its last 6 s a pilot takes no job.
  await using u = poolUser(slurm, `pool p slurm partition=${slurm.partition} nodes=2 cores=1 memory=0.5 time=00:01:00 idle=5 reach=ssh`);
  await u.ok(['sub', '-m', '0.1', '-t', '0:50', 'sleep 30']);
  const first = await nodeOnceJob(u, 1, 'running', 30_000);
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(1)?.status === 'done', { what: 'job 1 done', timeoutMs: 50_000 });
  // At most about 30 s are left to the first pilot: a job of 40 s waits, and says why.
  await u.ok(['sub', '-m', '0.1', '-t', '0:40', 'true']);
  const why = await u.ok(['why', '2']);
  assert.match(why, new RegExp(`${first}: its Slurm pilot \\(job \\d+\\) ends too soon for a job of -t`), why);
  const second = await nodeOnceJob(u, 2, 'done', 90_000);
  assert.notEqual(second, first);
});
