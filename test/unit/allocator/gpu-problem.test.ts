/**
 * A node whose probe could not tell its GPUs (nvidia-smi failed or printed
 * something unexpected, issue 16): status carries the reason on the node's
 * gpus (its GPUs 0, unless its nodes file says gpus=), the GPU section of
 * `qpy status` and `qpy-admin status` says it, and a warning names it;
 * a later good probe clears it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStatus } from '../../../src/allocator/status.js';
import { formatGpus } from '../../../src/cli/format-gpus.js';
import { setNodeMetrics } from '../../../src/allocator/state.js';
import { allocator, node } from './fixtures.js';

const PROBLEM = 'nvidia-smi failed (exit 9): "NVIDIA-SMI has failed"';

test('GPUs unknown: the reason in status, its GPU section and a warning; a good probe clears it', () => {
  const s = allocator([node('g', 8), node('c', 8)]);
  setNodeMetrics(s, 'g', { gpuDevices: null, gpuOutsiders: [], gpuProblem: PROBLEM });
  const st = buildStatus(s);
  assert.equal(st.gpus, undefined, 'no GPU is known');
  assert.deepEqual(st.nodes[0]!.gpus, { total: 0, used: 0, share: 1, outsiders: [], problem: PROBLEM });
  assert.equal(st.nodes[1]!.gpus, undefined);
  assert.deepEqual(st.warnings, [`node g: its GPUs are unknown, counted as 0: ${PROBLEM}`]);
  assert.equal(formatGpus(st), `GPUs: 0 of 0 in use.\n  node g: GPUs unknown (${PROBLEM})\n`);

  setNodeMetrics(s, 'g', { gpuDevices: [{ index: 0, uuid: 'GPU-0', name: 'H100', memoryMiB: 81559, usedMiB: 0 }], gpuProblem: null });
  const good = buildStatus(s);
  assert.deepEqual(good.nodes[0]!.gpus, { total: 1, used: 0, share: 1, outsiders: [] });
  assert.deepEqual(good.warnings, []);
});

test('with gpus= in the nodes file the count stands; the problem is said beside it', () => {
  const s = allocator([node('g', 8, { gpus: 2 })]);
  setNodeMetrics(s, 'g', { gpuDevices: null, gpuProblem: PROBLEM });
  const st = buildStatus(s);
  assert.deepEqual(st.gpus, { total: 2, used: 0 });
  assert.equal(st.nodes[0]!.gpus?.problem, PROBLEM);
  assert.deepEqual(st.warnings, [
    `node g: its probe could not read its GPUs (${PROBLEM}): its gpus=2 stands, but processes outside qpy on them are not seen`,
  ]);
  assert.equal(formatGpus(st), `GPUs: 0 of 2 in use.\n  node g: 0 of 2 in use, 2 GPUs; its probe could not read them (${PROBLEM})\n`);
});
