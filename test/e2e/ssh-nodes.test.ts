/**
 * The master with a personal nodes file of remote nodes: real OpenSSH sshd
 * nodes on loopback (test/helpers/sshd-cluster.ts), driven through the
 * installed `qpy` as a user would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useCluster } from '../helpers/sshd-cluster.js';
import { checkStatuses, qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

const sshd = useCluster(4);
const skip = sshd.skip;

const nodesFile = (names: string[], cores: number) => `${names.map((n) => `${n} address=${n} cores=${cores} memory=64`).join('\n')}\n`;

test('a job on each remote node, chosen by its name; status lists the nodes', { skip, timeout: 60_000 }, async () => {
  await using u = qpyUser({
    nodes: nodesFile(
      sshd.cluster.nodes.map((n) => n.name),
      2,
    ),
    env: { QPY_SSH_CONFIG: sshd.cluster.sshConfig },
  });
  for (const n of sshd.cluster.nodes) await u.ok(['sub', '-a', n.name, 'echo "$QPY_TEST_NODE $QPY_NODE"']);
  const s = await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return m.size === 4 && [...m.values()].every((j) => j.status === 'done') ? m : null;
    },
    { what: 'four jobs done', timeoutMs: 20_000 },
  );
  for (const [i, n] of sshd.cluster.nodes.entries()) {
    assert.equal(readFileSync(join(u.work, `job_${i + 1}.out`), 'utf8'), `${n.name} ${n.name}\n`);
    assert.match(s.get(i + 1)!.line, new RegExp(`on ${n.name};`));
  }
  const status = await u.ok(['status']);
  for (const n of sshd.cluster.nodes) assert.match(status, new RegExp(`^${n.name} +0 +2 `, 'm'));
});

test('SIGKILL the master while 50 jobs run on 3 nodes: all adopted, none killed or run twice, every exit code exact', {
  skip,
  timeout: 120_000,
}, async () => {
  const names = sshd.cluster.nodes.slice(0, 3).map((n) => n.name);
  await using u = qpyUser({ nodes: nodesFile(names, 20), env: { QPY_SSH_CONFIG: sshd.cluster.sshConfig } });
  const cmd = 'echo run >> runs.$QPY_JOB_ID; while [ ! -e go.$QPY_JOB_ID ]; do sleep 0.05; done; exit $((QPY_JOB_ID % 5))';
  for (let i = 1; i <= 50; i++) await u.ok(['sub', '-m', '0.1', cmd]);
  await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return [...m.values()].filter((j) => j.status === 'running').length === 50;
    },
    { what: '50 jobs running', timeoutMs: 30_000 },
  );
  const before = checkStatuses(await u.ok(['check']));
  assert.deepEqual(new Set([...before.values()].map((j) => /on (node\d);/.exec(j.line)?.[1])), new Set(names));

  u.killMaster();
  // Half of them end while no master watches.
  for (let id = 1; id <= 25; id++) writeFileSync(join(u.work, `go.${id}`), '');
  await waitFor(
    () => {
      for (let id = 1; id <= 25; id++) if (!readFileSync(join(u.qpyDir, 'run', `${id}.run`), 'utf8').includes('exit')) return false;
      return true;
    },
    { what: 'jobs 1-25 ended while the master was down', timeoutMs: 20_000 },
  );
  const after1 = checkStatuses(await u.ok(['check'])); // brings the master back
  for (let id = 26; id <= 50; id++) assert.equal(after1.get(id)?.status, 'running', `job ${id} still running after the restart`);
  for (let id = 26; id <= 50; id++) writeFileSync(join(u.work, `go.${id}`), '');
  const final = await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return m.size === 50 && [...m.values()].every((j) => j.status === 'done' || j.status === 'failed') ? m : null;
    },
    { what: 'all 50 final', timeoutMs: 30_000 },
  );
  for (let id = 1; id <= 50; id++) {
    const code = id % 5;
    const j = final.get(id)!;
    assert.equal(j.status, code === 0 ? 'done' : 'failed', j.line);
    assert.ok(j.line.endsWith(`; exit ${code})`), j.line);
    assert.equal(readFileSync(join(u.work, `runs.${id}`), 'utf8'), 'run\n', `job ${id} ran exactly once`);
  }
});
