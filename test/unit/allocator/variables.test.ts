/** Golden output of `qpy-admin variables` (§6.5 layout, plus drained/removed and removed users). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatVariables } from '../../../src/allocator/variables.js';
import { addUser, setNodeMetrics } from '../../../src/allocator/state.js';
import { chargeSlot } from '../../../src/allocator/accounting.js';
import { setDrained } from '../../../src/allocator/admin.js';
import { allocator, node } from './fixtures.js';

test('variables: counters, nodes, users and their slots', () => {
  const s = allocator([node('node1', 4, { attributes: ['big'], memGB: 23 }), node('node2', 3)]);
  const u1 = addUser(s, 'u1');
  chargeSlot(s, u1, { jobId: 23, node: 'node1', cores: 1, memGB: 0.01 });
  u1.queueSize = 2;
  setDrained(s, 'node2', true);
  assert.equal(
    formatVariables(s),
    [
      'n_cores          = 4',
      'n_min_cores      = 0',
      'n_used_cores     = 1',
      'n_used_min_cores = 0',
      'n_outsiders      = 0',
      '',
      'Nodes:',
      '------',
      '',
      'node1',
      '  address         = node1',
      '  max_cores       = 4',
      '  n_used_cores    = 1',
      '  n_outsiders     = 0',
      '  n_gpus          = unknown',
      '  gpu_outsiders   = []',
      '  total_mem       = 23',
      '  req_mem         = 2.01',
      '  used_mem        = 0',
      "  attributes      = ['big']",
      '  pref_multicores = False',
      '  is_up           = True',
      '  drained         = False',
      '  removed         = False',
      'node2',
      '  address         = node2',
      '  max_cores       = 3',
      '  n_used_cores    = 0',
      '  n_outsiders     = 0',
      '  n_gpus          = unknown',
      '  gpu_outsiders   = []',
      '  total_mem       = 64',
      '  req_mem         = 2',
      '  used_mem        = 0',
      '  attributes      = []',
      '  pref_multicores = False',
      '  is_up           = True',
      '  drained         = True',
      '  removed         = False',
      '',
      'Users:',
      '------',
      '',
      'u1',
      '  min_cores    = 0',
      '  extra_cores  = 4',
      '  max_cores    = 4',
      '  n_used_cores = 1',
      '  n_queue      = 2',
      '          23: node = node1, n_cores = 1, mem = 0.01',
      '',
    ].join('\n'),
  );
  assert.equal(
    formatVariables(allocator([])),
    'n_cores          = 0\nn_min_cores      = 0\nn_used_cores     = 0\nn_used_min_cores = 0\nn_outsiders      = 0\n\nNo nodes\n\nNo users\n',
  );
});

test('variables: a node’s GPUs as its probe found them, and those held by outsiders', () => {
  const s = allocator([node('node1', 4)]);
  const gpu = (index: number) => ({ index, uuid: `GPU-${index}`, name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559, usedMiB: 0 });
  setNodeMetrics(s, 'node1', { gpuDevices: [gpu(0), gpu(1), gpu(2)], gpuOutsiders: [0, 2] });
  assert.match(formatVariables(s), /\n {2}n_gpus {10}= 3\n {2}gpu_outsiders {3}= \[0, 2\]\n/);
  setNodeMetrics(s, 'node1', { gpuDevices: [], gpuOutsiders: [] });
  assert.match(formatVariables(s), /\n {2}n_gpus {10}= 0\n {2}gpu_outsiders {3}= \[\]\n/);
});
