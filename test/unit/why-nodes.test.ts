/**
 * Tests for the node-by-node reasons of `qpy why` (allocator/feasible.ts
 * explainNodes), the status warnings for unreachable and too-small nodes
 * (allocator/status.ts), and SSH failures in plain words (ssh/plain-words.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainNodes } from '../../src/allocator/feasible.js';
import { buildStatus } from '../../src/allocator/status.js';
import { addUser, createAllocator } from '../../src/allocator/state.js';
import { handleMasterMessage } from '../../src/allocator/handle.js';
import { DEFAULT_RULES } from '../../src/allocator/rules.js';
import type { NodeView } from '../../src/protocol/cluster.js';
import { plainSshProblem, portUnanswered, sshCause } from '../../src/ssh/plain-words.js';

const view = (name: string, over: Partial<NodeView> = {}): NodeView => ({
  name,
  address: name,
  cores: 4,
  usedCores: 0,
  outsiders: 0,
  load: 0,
  totalMemGB: 64,
  usedMemGB: 0,
  reqMemGB: 2,
  disk: null,
  attributes: [],
  up: true,
  drained: false,
  removed: false,
  prefMulticore: false,
  ...over,
});

test('explainNodes: one plain reason per node, the system reserve said as such', () => {
  const status = {
    users: [],
    totalCores: 0,
    usedCores: 0,
    warnings: [],
    nodes: [
      view('small', { totalMemGB: 4 }),
      view('busy', { usedCores: 4 }),
      view('full', { totalMemGB: 8, reqMemGB: 6 }),
      view('cut', { unreachableFor: [{ user: 'bob', reason: 'connection refused: node cut: connect ECONNREFUSED' }] }),
      view('off', { up: false }),
      view('dr', { drained: true }),
      view('gone', { removed: true }),
      view('free'),
    ],
  };
  const lines = explainNodes(status, 'bob', { cores: 1, memGB: 5, attrs: null });
  assert.deepEqual(lines, [
    'small: can never run it: 4 GB of memory, 2 GB reserved for the system, leaves 2 GB for jobs, and a job needs more than its 5 GB',
    'busy: 0 of 4 cores free',
    'full: 4 cores free, but only 2 GB of memory free for jobs ' +
      '(8 GB, 2 GB reserved for the system, 4 GB promised to running jobs), and a job needs more than its 5 GB',
    'cut: unreachable for you: connection refused: node cut: connect ECONNREFUSED',
    'off: down (it does not answer)',
    'dr: drained by the administrator (it takes no new jobs)',
    'gone: removed from the cluster by the administrator (it takes no new jobs)',
    'free: has room for it now',
  ]);
  assert.equal(
    explainNodes(status, 'alice', { cores: 1, memGB: 1, attrs: null })[3],
    'cut: has room for it now',
    'unreachable only for the user who reported it',
  );
});

test('status: a node unreachable for a user, with the reason it reported, and nodes too small for a default job', () => {
  const s = createAllocator(
    [
      { name: 'n1', address: 'n1', cores: 4, memGB: 4, attributes: [], prefMulticore: false, checkDir: null },
      { name: 'n2', address: 'n2', cores: 4, memGB: 7.5, attributes: [], prefMulticore: false, checkDir: null },
    ],
    DEFAULT_RULES,
  );
  addUser(s, 'bob');
  handleMasterMessage(
    s,
    { type: 'nodeLink', id: 1, user: 'bob', node: 'n2', reachable: false, reason: 'host key unknown (not in known_hosts)' },
    { trustRegistrations: false },
  );
  const st = buildStatus(s);
  assert.deepEqual(st.nodes[1]!.unreachableFor, [{ user: 'bob', reason: 'host key unknown (not in known_hosts)' }]);
  assert.equal(st.nodes[0]!.unreachableFor, undefined);
  assert.deepEqual(st.warnings, [
    'node n1 is too small for a default job: 4 GB of memory less the 2 GB system reserve leaves 2 GB, ' +
      'and a job of the default 5 GB needs more (a node needs more than 7 GB): only jobs with a smaller -m run there',
    'node n2 is unreachable for bob: host key unknown (not in known_hosts)',
  ]);
  handleMasterMessage(s, { type: 'nodeLink', id: 2, user: 'bob', node: 'n2', reachable: true }, { trustRegistrations: false });
  assert.equal(buildStatus(s).nodes[1]!.unreachableFor, undefined);
});

test('SSH failures in plain words', () => {
  assert.equal(sshCause('the host key of node n1 (u@h:22) is not in known_hosts'), 'host key unknown (not in known_hosts)');
  assert.equal(sshCause('the host key of node n1 (u@h:22) has CHANGED since it was recorded'), 'host key changed');
  assert.equal(sshCause('node n1 (u@h:22): authentication failed'), 'permission denied (publickey)');
  assert.equal(sshCause('node n1 (u@h:22): connect ECONNREFUSED 10.0.0.1:22'), 'connection refused');
  assert.equal(sshCause('node n1 (u@h:22): Timed out while waiting for handshake'), 'timed out');
  assert.equal(sshCause('node n1 (u@h:22): getaddrinfo ENOTFOUND nowhere'), 'name not resolved');
  assert.equal(sshCause('something else'), null);
  assert.equal(plainSshProblem('node n1: connect ECONNREFUSED 1.2.3.4:22'), 'connection refused: node n1: connect ECONNREFUSED 1.2.3.4:22');
  assert.equal(plainSshProblem('something else'), 'something else');
  assert.ok(portUnanswered('connect ECONNREFUSED'));
  assert.ok(!portUnanswered('authentication failed'));
});
