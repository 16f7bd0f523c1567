/** Golden output of `qpy-admin variables` (§6.5 layout, plus drained/removed and removed users). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatVariables } from '../../../src/allocator/variables.js';
import { addUser } from '../../../src/allocator/state.js';
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
