import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chargeSlot, releaseSlot, auditCounters, auditCapacity, nodeLoads } from '../../../src/allocator/accounting.js';
import { reloadNodes } from '../../../src/allocator/admin.js';
import { tryGrant } from '../../../src/allocator/grant.js';
import { addUser, createAllocator, MEM_RESERVE_GB, setNodeMetrics, setRules, outsidersFromBusy } from '../../../src/allocator/state.js';
import { allocator, assertBalanced, node, rules } from './fixtures.js';

test('§3.3 worked example: req_mem starts at the 2.0 GB reserve', () => {
  const s = allocator([node('n1', 8)]);
  const u = addUser(s, 'alice');
  const n = s.nodeByName.get('n1')!;
  assert.equal(n.reqMemGB, 2.0);
  assert.equal(MEM_RESERVE_GB, 2.0);
  chargeSlot(s, u, { jobId: 1, node: 'n1', cores: 1, memGB: 1.5 });
  assert.deepEqual([n.usedCores, n.reqMemGB], [1, 3.5]);
  chargeSlot(s, u, { jobId: 2, node: 'n1', cores: 3, memGB: 4.0 });
  assert.deepEqual([n.usedCores, n.reqMemGB], [4, 7.5]);
  releaseSlot(s, u, 1);
  assert.deepEqual([n.usedCores, n.reqMemGB], [3, 6.0]);
  assertBalanced(s);
});

test('reqMem returns exactly to the reserve when a node empties (no float drift)', () => {
  const s = allocator([node('n1', 8)]);
  const u = addUser(s, 'alice');
  chargeSlot(s, u, { jobId: 1, node: 'n1', cores: 1, memGB: 0.1 });
  chargeSlot(s, u, { jobId: 2, node: 'n1', cores: 1, memGB: 0.2 });
  releaseSlot(s, u, 1);
  releaseSlot(s, u, 2);
  assert.equal(s.nodeByName.get('n1')!.reqMemGB, 2.0);
});

test('min-core charging follows §3.3 and release of any slot keeps Σ min(min, used)', () => {
  const s = allocator([node('n1', 20)], 'explicit\nalice 4+0');
  const u = addUser(s, 'alice');
  assert.equal(u.min, 4);
  assert.equal(s.minCores, 4);
  const a = chargeSlot(s, u, { jobId: 1, node: 'n1', cores: 3, memGB: 1 });
  const b = chargeSlot(s, u, { jobId: 2, node: 'n1', cores: 3, memGB: 1 });
  const c = chargeSlot(s, u, { jobId: 3, node: 'n1', cores: 2, memGB: 1 });
  assert.deepEqual([a.minCores, b.minCores, c.minCores], [3, 1, 0]);
  assert.equal(s.usedMinCores, 4);
  // Release out of order: used after = 5 >= min, so §3.3 frees no min cores.
  releaseSlot(s, u, 1);
  assert.equal(s.usedMinCores, 4);
  assert.deepEqual([b.minCores, c.minCores], [3, 1]);
  releaseSlot(s, u, 2);
  assert.equal(s.usedMinCores, 2); // used 2 < min 4: min(3, 4 - 2) = 2 freed
  releaseSlot(s, u, 3);
  assert.equal(s.usedMinCores, 0);
  assertBalanced(s);
});

test('changing shares while slots run never makes counters drift or go negative', () => {
  const s = allocator([node('n1', 20)]);
  const u = addUser(s, 'alice');
  for (let j = 1; j <= 4; j++) chargeSlot(s, u, { jobId: j, node: 'n1', cores: 1, memGB: 1 });
  assert.equal(s.usedMinCores, 0);
  setRules(s, rules('even minimum 3'));
  assert.equal(s.usedMinCores, 3);
  assertBalanced(s);
  releaseSlot(s, u, 1);
  releaseSlot(s, u, 2);
  assert.equal(s.usedMinCores, 2);
  setRules(s, rules('even'));
  assert.equal(s.usedMinCores, 0);
  releaseSlot(s, u, 3);
  releaseSlot(s, u, 4);
  assert.deepEqual([s.usedCores, s.usedMinCores, s.minCores], [0, 0, 0]);
  assertBalanced(s);
});

test('releasing an unknown or already released job changes nothing', () => {
  const s = allocator([node('n1', 4)]);
  const u = addUser(s, 'alice');
  chargeSlot(s, u, { jobId: 1, node: 'n1', cores: 2, memGB: 1 });
  assert.notEqual(releaseSlot(s, u, 1), null);
  assert.equal(releaseSlot(s, u, 1), null);
  assert.equal(releaseSlot(s, u, 99), null);
  assert.deepEqual([s.usedCores, s.nodeByName.get('n1')!.usedCores], [0, 0]);
  assertBalanced(s);
});

test('a slot on an unconfigured node is charged to the user and the total only', () => {
  const s = allocator([node('n1', 4)]);
  const u = addUser(s, 'alice');
  chargeSlot(s, u, { jobId: 1, node: 'gone', cores: 2, memGB: 1 });
  assert.deepEqual([u.usedCores, s.usedCores, s.nodeByName.get('n1')!.usedCores], [2, 2, 0]);
  assertBalanced(s);
  releaseSlot(s, u, 1);
  assert.deepEqual([u.usedCores, s.usedCores], [0, 0]);
  assertBalanced(s);
});

test('adding users redistributes shares in registration order', () => {
  const s = allocator([node('n1', 5), node('n2', 5)]);
  assert.equal(s.totalCores, 10);
  addUser(s, 'user1');
  assert.equal(s.userByName.get('user1')!.extra, 10);
  addUser(s, 'user2');
  addUser(s, 'user3');
  assert.deepEqual(
    s.users.map((u) => `${u.min}/${u.extra}`),
    ['0/4', '0/3', '0/3'],
  );
  assert.equal(addUser(s, 'user2'), s.users[1]); // idempotent
  assert.equal(s.users.length, 3);
});

test('a distribution that cannot be applied keeps old shares and is reported', () => {
  const s = createAllocator([node('n1', 4)], rules('even minimum 2'));
  addUser(s, 'a');
  addUser(s, 'b');
  assert.equal(s.distributionError, null);
  addUser(s, 'c');
  assert.match(s.distributionError ?? '', /^Requirement exceeds the number of cores/);
  assert.deepEqual(
    s.users.map((u) => `${u.min}/${u.extra}`),
    ['2/0', '2/0', '0/0'],
  );
  assertBalanced(s);
});

test('node metrics: set, partial update, unknown node; outsiders from busy count', () => {
  const s = allocator([node('n1', 4)]);
  const u = addUser(s, 'alice');
  assert.equal(setNodeMetrics(s, 'nope', { up: false }), false);
  assert.equal(setNodeMetrics(s, 'n1', { up: false, load: 1.5, usedMemGB: 10, outsiders: 1, disk: { usedGB: 5, totalGB: 50 } }), true);
  const n = s.nodeByName.get('n1')!;
  assert.deepEqual([n.up, n.load, n.usedMemGB, n.outsiders, n.disk], [false, 1.5, 10, 1, { usedGB: 5, totalGB: 50 }]);
  setNodeMetrics(s, 'n1', { up: true });
  assert.deepEqual([n.up, n.load], [true, 1.5]);
  chargeSlot(s, u, { jobId: 1, node: 'n1', cores: 2, memGB: 1 });
  assert.equal(outsidersFromBusy(s, 'n1', 3), 1);
  assert.equal(outsidersFromBusy(s, 'n1', 1), 0);
  assert.deepEqual(auditCounters(s), []);
});

test('auditCapacity: a node over its cores or memory is flagged, unless its capacity shrank under its slots and its load only went down', () => {
  const s = allocator([node('n1', 4, { memGB: 10 }), node('tiny', 2, { memGB: 1 })]);
  const u = addUser(s, 'alice');
  assert.deepEqual(auditCapacity(s), [], 'a node smaller than the reserve is not over while idle');
  for (let j = 1; j <= 2; j++) assert.ok(tryGrant(s, u, j, { cores: 2, memGB: 3, attrs: null }).ok);
  assert.deepEqual([s.nodeByName.get('n1')!.usedCores, s.nodeByName.get('n1')!.reqMemGB], [4, 8]);
  assert.deepEqual(auditCapacity(s), []);
  // The admin's reload shrinks n1 under its two slots: over, legitimately.
  let before = nodeLoads(s);
  reloadNodes(s, [node('n1', 2, { memGB: 6 }), node('tiny', 2, { memGB: 1 })]);
  assert.deepEqual(auditCapacity(s, before), []);
  assert.deepEqual(auditCapacity(s), [
    'node n1 holds 4 cores, more than its 2',
    'node n1 has 8 GB requested (the 2 GB reserve included), more than its 6 GB',
  ]);
  assert.equal(tryGrant(s, u, 3, { cores: 1, memGB: 0, attrs: 'n1' }).ok, false, 'an over-capacity node takes nothing');
  before = nodeLoads(s);
  releaseSlot(s, u, 1);
  assert.deepEqual(auditCapacity(s, before), [], 'going down is fine');
  // Load added to a node beyond its capacity is always flagged (here by a charge without checks).
  before = nodeLoads(s);
  chargeSlot(s, u, { jobId: 4, node: 'tiny', cores: 3, memGB: 0 });
  assert.deepEqual(auditCapacity(s, before), [
    'node tiny holds 3 cores, more than its 2 (it held 0 cores and 2 GB before)',
    'node tiny has 2 GB requested (the 2 GB reserve included), more than its 1 GB (it held 0 cores and 2 GB before)',
  ]);
  assertBalanced(s);
});
