/**
 * Tests for src/allocator/admin.ts: reloading nodes by diff while jobs run,
 * draining and resuming, removing users; the books balance after each step
 * and no grant ever lands where it must not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forgetIfIdle, reloadNodes, removeUser, setDrained } from '../../../src/allocator/admin.js';
import { handleMasterMessage } from '../../../src/allocator/handle.js';
import type { AllocatorState } from '../../../src/allocator/state.js';
import type { MasterToAllocator } from '../../../src/protocol/master-allocator.js';
import { allocator, assertBalanced, node } from './fixtures.js';

let id = 0;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
const send = (s: AllocatorState, m: WithoutId<MasterToAllocator>) =>
  handleMasterMessage(s, { ...m, id: ++id } as MasterToAllocator, { trustRegistrations: false });
const ask = (s: AllocatorState, user: string, jobId: number, attrs: string | null = null, cores = 1) => {
  const r = send(s, { type: 'request', user, jobId, demand: { cores, memGB: 1, attrs }, queueSize: 5 });
  return r.type === 'granted' ? r.node : r.type === 'refused' ? r.reason : `${r.type}${r.type === 'error' ? ` ${r.code}` : ''}`;
};

test('reload: nodes that stay keep their usage; changed ones take their new spec; new ones are added idle', () => {
  const s = allocator([node('a', 4), node('b', 4)]);
  send(s, { type: 'register', user: 'u', running: [], queueSize: 0 });
  assert.equal(ask(s, 'u', 1, 'a'), 'a');
  assert.equal(ask(s, 'u', 2, 'b'), 'b');
  const diff = reloadNodes(s, [node('b', 8), node('a', 4), node('c', 2)]);
  assert.deepEqual(diff, { added: ['c'], removed: [], changed: ['b'] });
  assert.deepEqual(
    s.nodes.map((n) => [n.spec.name, n.usedCores, n.spec.cores]),
    [
      ['b', 1, 8],
      ['a', 1, 4],
      ['c', 0, 2],
    ],
    'file order, usage kept',
  );
  assert.equal(s.totalCores, 14);
  assert.deepEqual([s.users[0]!.min, s.users[0]!.extra], [0, 14], 'shares redistributed');
  assertBalanced(s);
});

test('reload: a removed node takes no jobs, drains, and disappears with its last slot', () => {
  const s = allocator([node('a', 2), node('b', 2)]);
  send(s, { type: 'register', user: 'u', running: [], queueSize: 0 });
  assert.equal(ask(s, 'u', 1, 'b'), 'b');
  const diff = reloadNodes(s, [node('a', 2)]);
  assert.deepEqual(diff.removed, ['b']);
  assert.equal(s.nodeByName.get('b')?.removed, true, 'kept while its job runs');
  assert.equal(s.totalCores, 2, 'its cores are no longer shared out');
  assert.equal(ask(s, 'u', 2, 'b'), 'no_node');
  assert.equal(ask(s, 'u', 3), 'a');
  assertBalanced(s);
  send(s, { type: 'release', user: 'u', jobId: 1, queueSize: 0 });
  assert.equal(s.nodeByName.has('b'), false, 'gone with its last slot');
  assertBalanced(s);
  // An idle node goes at once; one put back before draining is in use again.
  const t = allocator([node('a', 2), node('b', 2)]);
  assert.deepEqual(reloadNodes(t, [node('a', 2)]).removed, ['b']);
  assert.equal(t.nodeByName.has('b'), false);
});

test('reload: a removed node whose slots a registration settles disappears too', () => {
  const s = allocator([node('a', 2), node('b', 2)]);
  send(s, { type: 'register', user: 'u', running: [], queueSize: 0 });
  assert.equal(ask(s, 'u', 1, 'b'), 'b');
  reloadNodes(s, [node('a', 2)]);
  assert.equal(s.nodeByName.has('b'), true);
  send(s, { type: 'register', user: 'u', running: [], queueSize: 0 }); // job 1 ended while nobody listened
  assert.equal(s.nodeByName.has('b'), false);
  assertBalanced(s);
});

test('reload: a removed node put back before its jobs end is in use again, its usage intact', () => {
  const s = allocator([node('a', 2), node('b', 2)]);
  send(s, { type: 'register', user: 'u', running: [], queueSize: 0 });
  assert.equal(ask(s, 'u', 1, 'b'), 'b');
  reloadNodes(s, [node('a', 2)]);
  assert.deepEqual(reloadNodes(s, [node('a', 2), node('b', 2)]), { added: [], removed: [], changed: ['b'] });
  assert.equal(ask(s, 'u', 2, 'b'), 'b');
  assert.equal(s.nodeByName.get('b')!.usedCores, 2);
  assertBalanced(s);
});

test('drain: no new jobs on the node, running ones untouched, its cores out of the shares; resume undoes it', () => {
  const s = allocator([node('a', 2), node('b', 2)]);
  send(s, { type: 'register', user: 'u', running: [], queueSize: 0 });
  assert.equal(ask(s, 'u', 1, 'a'), 'a');
  assert.equal(setDrained(s, 'a', true), true);
  assert.equal(s.totalCores, 2);
  assert.equal(ask(s, 'u', 2, 'a'), 'no_node');
  assert.equal(ask(s, 'u', 3), 'b');
  assert.equal(s.nodeByName.get('a')!.usedCores, 1);
  assertBalanced(s);
  assert.equal(setDrained(s, 'a', false), true);
  assert.equal(ask(s, 'u', 2, 'a'), 'a');
  assert.equal(s.totalCores, 4);
  assert.equal(setDrained(s, 'nope', true), false);
  assertBalanced(s);
});

test('remove user: its requests are refused, its jobs finish, then it is forgotten and the others share everything', () => {
  const s = allocator([node('a', 4)]);
  send(s, { type: 'register', user: 'u', running: [], queueSize: 0 });
  send(s, { type: 'register', user: 'v', running: [], queueSize: 0 });
  assert.equal(ask(s, 'u', 1), 'a');
  assert.equal(removeUser(s, 'u'), 'draining');
  assert.equal(ask(s, 'u', 2), 'error NOT_ALLOWED');
  assert.equal(s.nodeByName.get('a')!.usedCores, 1, 'its running job keeps its slot');
  send(s, { type: 'release', user: 'u', jobId: 1, queueSize: 0 });
  assert.equal(s.userByName.has('u'), false, 'forgotten with its last slot');
  assert.deepEqual([s.users[0]!.name, s.users[0]!.min + s.users[0]!.extra], ['v', 4]);
  assert.equal(removeUser(s, 'v'), 'forgotten', 'an idle user goes at once');
  assert.equal(removeUser(s, 'w'), 'unknown');
  assert.equal(forgetIfIdle(s, s.users[0] ?? ({ removed: false } as never)), false);
  assertBalanced(s);
});
