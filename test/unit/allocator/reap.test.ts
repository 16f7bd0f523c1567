/**
 * Tests for src/allocator/reap.ts: a dead master's slots whose wrappers a
 * complete probe no longer lists are released; the rest stay charged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseVanishedSlots } from '../../../src/allocator/index.js';
import { chargeSlot } from '../../../src/allocator/accounting.js';
import { reloadNodes, removeUser } from '../../../src/allocator/admin.js';
import { addUser } from '../../../src/allocator/state.js';
import { allocator, assertBalanced, node } from './fixtures.js';

test('releaseVanishedSlots: only slots on completely probed nodes whose wrapper is gone; other users untouched', () => {
  const s = allocator([node('a', 4), node('b', 4), node('c', 4)]);
  const alice = addUser(s, 'alice');
  const bob = addUser(s, 'bob');
  for (const [jobId, n] of [
    [1, 'a'],
    [2, 'a'],
    [3, 'b'],
    [4, 'c'],
  ] as const)
    chargeSlot(s, alice, { jobId, node: n, cores: 1, memGB: 1 });
  chargeSlot(s, bob, { jobId: 1, node: 'a', cores: 2, memGB: 1 });
  // a: job 1 still runs, job 2 is gone; b: probed, nothing runs; c: down (absent).
  const live = new Map([
    ['a', new Set([1])],
    ['b', new Set<number>()],
  ]);
  const released = releaseVanishedSlots(s, 'alice', live);
  assert.deepEqual(released.map((r) => r.jobId).sort(), [2, 3]);
  assert.deepEqual([...alice.slots.keys()], [1, 4]);
  assert.deepEqual([bob.usedCores, s.nodeByName.get('a')!.usedCores, s.usedCores], [2, 3, 4]);
  assertBalanced(s);
  assert.deepEqual(releaseVanishedSlots(s, 'alice', live), [], 'again: nothing more');
  assert.deepEqual(releaseVanishedSlots(s, 'nobody', live), []);
});

test('releaseVanishedSlots prunes removed nodes and forgets a removed user that now holds nothing', () => {
  const s = allocator([node('a', 4), node('b', 4)]);
  const alice = addUser(s, 'alice');
  addUser(s, 'bob');
  chargeSlot(s, alice, { jobId: 1, node: 'b', cores: 1, memGB: 1 });
  reloadNodes(s, [node('a', 4)]);
  assert.equal(removeUser(s, 'alice'), 'draining');
  assert.equal(s.nodeByName.get('b')?.removed, true);
  releaseVanishedSlots(s, 'alice', new Map([['b', new Set<number>()]]));
  assert.equal(s.nodeByName.has('b'), false);
  assert.equal(s.userByName.has('alice'), false);
  assert.deepEqual([s.users.map((u) => u.name), s.users[0]!.extra], [['bob'], 4], 'shares redistributed');
  assertBalanced(s);
});
