/**
 * GPUs in the allocator (issue 16): a job is placed only where N distinct
 * devices are free; `gpu_share=K` lets K jobs share one; a device held by an
 * outsider is never given out; the grant names the devices (and their UUIDs
 * where the probe knows them); release frees them; registrations report and
 * settle them; a seeded random sequence keeps every device within its share
 * and the counts equal to the slots' sums.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../helpers/prng.js';
import { auditCapacity, nodeLoads } from '../../../src/allocator/accounting.js';
import { checkFeasible, explainNodes } from '../../../src/allocator/feasible.js';
import { buildStatus } from '../../../src/allocator/status.js';
import { formatGpus } from '../../../src/cli/format-gpus.js';
import { freeGpuIndices, nodeGpuCount, pickGpus } from '../../../src/allocator/gpus.js';
import { setNodeMetrics, type AllocatorState } from '../../../src/allocator/state.js';
import type { GpuDevice } from '../../../src/protocol/gpu.js';
import { allocator, assertBalanced, node } from './fixtures.js';
import { register, send, STRICT } from './handle-helpers.js';

const gpuDemand = (gpus: number, cores = 1) => ({ cores, memGB: 1, attrs: null, gpus });

function ask(s: AllocatorState, user: string, jobId: number, gpus: number, cores = 1) {
  return send(s, { type: 'request', user, jobId, demand: gpuDemand(gpus, cores), queueSize: 1 });
}

function grantedGpus(s: AllocatorState, user: string, jobId: number, gpus: number): number[] {
  const r = ask(s, user, jobId, gpus);
  assert.equal(r.type, 'granted', JSON.stringify(r));
  return r.type === 'granted' ? (r.gpus ?? []) : [];
}

const device = (index: number): GpuDevice => ({ index, uuid: `GPU-${index}`, name: 'H100', memoryMiB: 81559, usedMiB: 0 });

test('two 1-GPU jobs get different devices of a 2-GPU node; a third waits until one is released', () => {
  const s = allocator([node('g', 8, { gpus: 2 })]);
  register(s, 'alice');
  assert.deepEqual(grantedGpus(s, 'alice', 1, 1), [0]);
  assert.deepEqual(grantedGpus(s, 'alice', 2, 1), [1]);
  const third = ask(s, 'alice', 3, 1);
  assert.deepEqual(third.type === 'refused' && third.reason, 'no_gpu_room'); // every GPU is in use
  send(s, { type: 'release', user: 'alice', jobId: 1, queueSize: 1 });
  assert.deepEqual(grantedGpus(s, 'alice', 3, 1), [0]);
  assertBalanced(s);
});

test('a job asking for no GPU is placed without one and gets no gpus in its grant', () => {
  const s = allocator([node('g', 8, { gpus: 1 })]);
  register(s, 'alice');
  const r = ask(s, 'alice', 1, 0);
  assert.equal(r.type, 'granted');
  assert.equal(r.type === 'granted' && 'gpus' in r, false);
  assert.deepEqual(grantedGpus(s, 'alice', 2, 1), [0]);
});

test('N GPUs are distinct devices of one node; a node with too few is passed over', () => {
  const s = allocator([node('small', 8, { gpus: 1 }), node('big', 8, { gpus: 4 })]);
  register(s, 'alice');
  const r = ask(s, 'alice', 1, 3);
  assert.equal(r.type === 'granted' && r.node, 'big');
  assert.deepEqual(r.type === 'granted' && r.gpus, [0, 1, 2]);
  const r2 = ask(s, 'alice', 2, 2);
  assert.equal(r2.type === 'refused' && r2.reason, 'no_node');
  const r3 = ask(s, 'alice', 3, 1);
  assert.deepEqual(r3.type === 'granted' && [r3.node, r3.gpus], ['small', [0]]); // a 1-core job goes where most cores are free
});

test('gpu_share=K: up to K jobs on one device, the idle devices first', () => {
  const s = allocator([node('g', 16, { gpus: 2, gpuShare: 2 })]);
  register(s, 'alice');
  const got = [1, 2, 3, 4].map((j) => grantedGpus(s, 'alice', j, 1));
  assert.deepEqual(got, [[0], [1], [0], [1]]);
  const fifth = ask(s, 'alice', 5, 1);
  assert.equal(fifth.type === 'refused' && fifth.reason, 'no_gpu_room');
  assert.deepEqual(auditCapacity(s), []);
});

test('a device held by an outsider is never given out; the node takes what is left', () => {
  const s = allocator([node('g', 8, { gpus: 3 })]);
  register(s, 'alice');
  setNodeMetrics(s, 'g', { gpuOutsiders: [0, 2] });
  assert.deepEqual(freeGpuIndices(s.nodes[0]!), [1]);
  assert.deepEqual(grantedGpus(s, 'alice', 1, 1), [1]);
  assert.equal(ask(s, 'alice', 2, 1).type, 'refused');
  setNodeMetrics(s, 'g', { gpuOutsiders: [] });
  assert.deepEqual(grantedGpus(s, 'alice', 2, 1), [0]);
});

test('a node without gpus= has the devices its probe found (none until then), with their UUIDs in the grant', () => {
  const s = allocator([node('g', 8)]);
  register(s, 'alice');
  assert.equal(nodeGpuCount(s.nodes[0]!), 0);
  assert.equal(ask(s, 'alice', 1, 1).type, 'refused');
  setNodeMetrics(s, 'g', { gpuDevices: [device(0), device(1)] });
  const r = ask(s, 'alice', 2, 2);
  assert.equal(r.type, 'granted');
  if (r.type !== 'granted') return;
  assert.deepEqual(r.gpus, [0, 1]);
  assert.deepEqual(r.gpuUuids, ['GPU-0', 'GPU-1']);
});

test('gpus= is the admin word: devices 0..N−1 whatever the probe found; UUIDs only where it knows each', () => {
  const s = allocator([node('g', 8, { gpus: 2 })]);
  register(s, 'alice');
  setNodeMetrics(s, 'g', { gpuDevices: [device(0)] });
  const a = ask(s, 'alice', 1, 1);
  assert.deepEqual(a.type === 'granted' && [a.gpus, a.gpuUuids], [[0], ['GPU-0']]);
  const b = ask(s, 'alice', 2, 1);
  assert.deepEqual(b.type === 'granted' && [b.gpus, 'gpuUuids' in b], [[1], false]);
});

test('feasibility: -g larger than any node has is refused with the reason', () => {
  const s = allocator([node('a', 8, { gpus: 2 }), node('b', 4)]);
  assert.equal(checkFeasible(s, { cores: 1, memGB: 1, attrs: null, gpus: 2 }), null);
  assert.match(checkFeasible(s, { cores: 1, memGB: 1, attrs: null, gpus: 3 }) ?? '', /^no node has 3 GPUs \(the most any has is 2/);
  assert.match(
    checkFeasible(s, { cores: 6, memGB: 1, attrs: null, gpus: 3 }) ?? '',
    /^no node with room for its cores and memory has 3 GPUs \(the most any has is 2/,
  );
  assert.match(checkFeasible(s, { cores: 1, memGB: 1, attrs: 'b', gpus: 1 }) ?? '', /^no node matching "b" has 1 GPU \(none has any/);
  assert.match(checkFeasible(allocator([node('c', 2)]), { cores: 1, memGB: 1, attrs: null, gpus: 1 }) ?? '', /none has any/);
});

test('bad GPU demands are refused as invalid, never placed', () => {
  const s = allocator([node('g', 8, { gpus: 2 })]);
  register(s, 'alice');
  for (const gpus of [-1, 1.5, 5000]) {
    const r = ask(s, 'alice', 1, gpus);
    assert.equal(r.type, 'error', `${gpus}`);
  }
  assertBalanced(s);
});

test('strict registration keeps a slot reported with its GPUs, refuses one reported with others', () => {
  const s = allocator([node('g', 8, { gpus: 2 })]);
  register(s, 'alice', [], 0, STRICT);
  grantedGpus(s, 'alice', 1, 1);
  grantedGpus(s, 'alice', 2, 1);
  const r = register(
    s,
    'alice',
    [
      { jobId: 1, node: 'g', cores: 1, memGB: 1, gpus: [0] },
      { jobId: 2, node: 'g', cores: 1, memGB: 1, gpus: [0] },
    ],
    0,
    STRICT,
  );
  assert.equal(r.type, 'registered');
  if (r.type !== 'registered') return;
  assert.deepEqual(
    r.refused.map((x) => x.jobId),
    [2],
  );
  assert.match(r.refused[0]!.reason, /was granted 1 core and 1 GB on g, GPU 1, not 1 core and 1 GB on g, GPU 0/);
  assert.deepEqual(
    [...s.nodes[0]!.gpuUse],
    [
      [0, 1],
      [1, 1],
    ],
  );
});

test('trusted registration charges the reported GPUs, and a later grant avoids them', () => {
  const s = allocator([node('g', 8, { gpus: 3 })]);
  register(s, 'alice', [{ jobId: 7, node: 'g', cores: 1, memGB: 1, gpus: [0, 2] }]);
  assert.deepEqual(grantedGpus(s, 'alice', 8, 1), [1]);
});

test('pickGpus prefers the least loaded devices, then the lowest index, returned in order', () => {
  const s = allocator([node('g', 8, { gpus: 4, gpuShare: 3 })]);
  const n = s.nodes[0]!;
  n.gpuUse.set(0, 2);
  n.gpuUse.set(1, 1);
  n.gpuUse.set(3, 1);
  assert.deepEqual(pickGpus(n, 1), [2]);
  assert.deepEqual(pickGpus(n, 3), [1, 2, 3]);
  assert.deepEqual(pickGpus(n, 4), [0, 1, 2, 3]);
  assert.equal(pickGpus(n, 5), null);
});

test('a seeded random sequence keeps every device within its share, off outsiders, and the counts equal to the sums', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = new Rng(seed);
    const s = allocator([
      node('a', 16, { gpus: 4 }),
      node('b', 16, { gpus: 2, gpuShare: 3 }),
      node('c', 16),
      node('d', 16, { gpus: 8, gpuShare: 2 }),
    ]);
    const users = ['u0', 'u1', 'u2'];
    for (const u of users) register(s, u, [], 0, STRICT);
    const held: { user: string; jobId: number }[] = [];
    let nextJob = 1;
    for (let step = 0; step < 400; step++) {
      if (rng.chance(0.1)) setNodeMetrics(s, rng.pick(['a', 'b', 'd']), { gpuOutsiders: rng.chance(0.5) ? [] : [rng.int(0, 7)] });
      if (held.length > 0 && rng.chance(0.4)) {
        const i = rng.int(0, held.length - 1);
        const [h] = held.splice(i, 1);
        send(s, { type: 'release', user: h!.user, jobId: h!.jobId, queueSize: 1 });
        continue;
      }
      const user = rng.pick(users);
      const jobId = nextJob++;
      const before = nodeLoads(s);
      const outsidersBefore = new Map(s.nodes.map((n) => [n.spec.name, new Set(n.gpuOutsiders)]));
      const r = ask(s, user, jobId, rng.int(0, 3), rng.int(1, 2));
      assert.deepEqual(auditCapacity(s, before), [], `seed ${seed}, step ${step}`);
      if (r.type === 'granted') {
        held.push({ user, jobId });
        const gpus = r.gpus ?? [];
        assert.equal(new Set(gpus).size, gpus.length);
        for (const g of gpus)
          assert.ok(!outsidersBefore.get(r.node)!.has(g), `seed ${seed}: GPU ${g} of ${r.node} held by an outsider was given out`);
      }
    }
    assertBalanced(s);
    for (const h of held) send(s, { type: 'release', user: h.user, jobId: h.jobId, queueSize: 0 });
    for (const n of s.nodes) assert.equal(n.gpuUse.size, 0);
  }
});

test('status shows GPUs per node and per user; explainNodes says why a node cannot give N GPUs now', () => {
  const s = allocator([node('g', 8, { gpus: 2 }), node('c', 8)]);
  register(s, 'alice');
  setNodeMetrics(s, 'g', { gpuOutsiders: [1] });
  grantedGpus(s, 'alice', 1, 1);
  const st = buildStatus(s);
  assert.deepEqual(st.gpus, { total: 2, used: 1 });
  assert.deepEqual(st.nodes[0]!.gpus, { total: 2, used: 1, share: 1, outsiders: [1] });
  assert.equal(st.nodes[1]!.gpus, undefined);
  assert.deepEqual(st.users[0]!.gpus, { used: 1, min: 0, extra: 2, queue: 0 });
  assert.deepEqual(explainNodes(st, 'alice', { cores: 1, memGB: 1, attrs: null, gpus: 1 }), [
    "g: 0 of 2 GPUs free (busy with qpy jobs, yours or others', GPU 1 held by a process outside qpy)",
    'c: has no GPU',
  ]);
  assert.match(
    formatGpus(st),
    /^GPUs: 1 of 2 in use\.\n {2}node g: 1 of 2 in use, 2 GPUs; held by processes outside qpy: GPU 1\n {2}user alice: 1 in use, part 2\n$/,
  );
  assert.equal(formatGpus(buildStatus(allocator([node('c', 8)]))), '');
});
