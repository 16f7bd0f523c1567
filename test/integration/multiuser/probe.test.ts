/**
 * qpy-multiuser's node probes against real sshd nodes: a node without
 * `cores=`/`memory=` takes its capacity from the probe; a node whose sshd
 * dies is shown down (and takes no jobs) at the next probe, and up again once
 * it answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { useCluster } from '../../helpers/sshd-cluster.js';
import { testMultiuser, type TestMultiuser } from '../../helpers/multiuser.js';
import { waitFor } from '../../helpers/wait.js';
import type { NodeView } from '../../../src/protocol/cluster.js';

const sshd = useCluster(2);
const skip = sshd.skip;

async function nodes(mu: TestMultiuser): Promise<Map<string, NodeView>> {
  const c = await mu.admin();
  const r = await c.request({ type: 'status' });
  c.close();
  return new Map(r.type === 'status' ? r.status.nodes.map((n) => [n.name, n]) : []);
}

test('probes: capacity read from the node, down when its sshd dies, up when it is back', { skip, timeout: 60_000 }, async () => {
  const [a, b] = sshd.cluster.nodes.map((n) => n.name) as [string, string];
  await using mu = testMultiuser({
    nodes: `${a} address=${a}\n${b} address=${b} cores=3 memory=8 check_dir=/tmp\n`,
    env: { QPY_SSH_CONFIG: sshd.cluster.sshConfig, QPY_PROBE_MS: '300' },
  });
  assert.equal((await mu.start()).code, 0);
  const first = await waitFor(
    async () => {
      const m = await nodes(mu);
      return m.get(a)!.cores > 0 && m.get(b)!.disk !== null ? m : null;
    },
    { what: 'first probes', timeoutMs: 20_000 },
  );
  assert.equal(first.get(a)!.cores, availableParallelism(), 'cores from the probe');
  assert.ok(first.get(a)!.totalMemGB > 0, 'memory from the probe');
  assert.equal(first.get(b)!.cores, 3, 'cores from the file win');
  assert.equal(first.get(b)!.totalMemGB, 8);
  assert.ok(first.get(b)!.disk!.totalGB > 0, 'disk of check_dir');
  assert.equal(first.get(a)!.up, true);

  await sshd.cluster.crash(0);
  await waitFor(async () => (await nodes(mu)).get(a)!.up === false, { what: `${a} shown down`, timeoutMs: 20_000 });
  await sshd.cluster.start(0);
  await waitFor(async () => (await nodes(mu)).get(a)!.up === true, { what: `${a} up again`, timeoutMs: 20_000 });
});
