/**
 * The allocator's handling of one master message (handle.ts): requests
 * and releases (the §3.6 borrowing example step by step), feasibility,
 * status, the embedded default and unreachable nodes. Registration is in
 * handle-register.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleMasterMessage, createAllocator, addUser } from '../../../src/allocator/handle.js';
import { setNodeMetrics } from '../../../src/allocator/state.js';
import { allocator, node, rules } from './fixtures.js';
import { nextId, STRICT, send, demand, request, register } from './handle-helpers.js';

test('§3.6 borrowing example, step by step: even, two 10-core nodes, users A and B', () => {
  const s = allocator([node('n1', 10), node('n2', 10)]);
  register(s, 'A');
  register(s, 'B');
  assert.deepEqual(
    s.users.map((u) => [u.name, u.min, u.extra]),
    [
      ['A', 0, 10],
      ['B', 0, 10],
    ],
  );
  // A has 30 queued, B none: 10 inside A's share, then 10 borrowed from idle B.
  let queue = 30;
  for (let j = 1; j <= 20; j++) {
    assert.match(request(s, 'A', j, queue), /^n[12]$/, `job ${j}`);
    queue--;
  }
  assert.equal(s.userByName.get('A')!.usedCores, 20);
  assert.equal(s.userByName.get('A')!.queueSize, 10);
  // The 21st request fails.
  assert.equal(request(s, 'A', 21, queue), 'no_room');
  assert.equal(s.userByName.get('A')!.queueSize, 10);
  // B submits: its request fails, 0 free cores.
  assert.equal(request(s, 'B', 101, 1), 'no_room');
  assert.equal(s.userByName.get('B')!.queueSize, 1);
  // One of A's jobs ends; A asks again and is refused (B has a queue and is under its share).
  assert.deepEqual(send(s, { type: 'release', user: 'A', jobId: 1, queueSize: queue }), { type: 'released', id: nextId - 1, found: true });
  assert.equal(request(s, 'A', 21, queue), 'no_room');
  // B asks and gets the core; B's next request fails, no free cores.
  assert.match(request(s, 'B', 101, 2), /^n[12]$/);
  assert.equal(s.userByName.get('B')!.queueSize, 1);
  assert.equal(request(s, 'B', 102, 1), 'no_room');
});

test('request: granted carries node and address; no_node when nothing fits now', () => {
  const s = allocator([node('node1', 2, { address: 'host1.example' })]);
  register(s, 'alice');
  const r = send(s, { type: 'request', user: 'alice', jobId: 7, demand: demand(2), queueSize: 3 });
  assert.deepEqual(r, { type: 'granted', id: r.id, jobId: 7, node: 'node1', address: 'host1.example' });
  assert.equal(s.userByName.get('alice')!.queueSize, 2);
  const t = allocator([node('a', 4), node('b', 4)]);
  register(t, 'alice');
  assert.equal(request(t, 'alice', 1, 1, demand(4, 1, 'a')), 'a');
  assert.equal(request(t, 'alice', 2, 1, demand(1, 1, 'a')), 'no_node');
});

test('request and release from an unregistered user are BAD_REQUEST errors', () => {
  const s = allocator([node('n1', 2)]);
  const r = send(s, { type: 'request', user: 'mallory', jobId: 1, demand: demand(), queueSize: 1 });
  assert.deepEqual(r, { type: 'error', id: r.id, code: 'BAD_REQUEST', message: 'user mallory is not registered' });
  const q = send(s, { type: 'release', user: 'mallory', jobId: 1, queueSize: 0 });
  assert.equal(q.type === 'error' && q.message, 'user mallory is not registered');
});

test('request with an invalid expression is an INVALID_EXPRESSION error', () => {
  const s = allocator([node('n1', 2)]);
  register(s, 'alice');
  assert.equal(
    request(s, 'alice', 1, 1, demand(1, 1, 'big xx')),
    'error INVALID_EXPRESSION: invalid attribute expression "big xx": expected "and" or "or" between "big" and "xx"',
  );
});

test('request and feasible with parentheses nested too deep are BAD_EXPR errors; a shallow bad expression stays a feasibility problem', () => {
  const s = allocator([node('n1', 2)]);
  register(s, 'alice');
  const deep = '('.repeat(3000);
  assert.match(
    request(s, 'alice', 1, 1, demand(1, 1, deep)),
    /^error BAD_EXPR: invalid attribute expression "\(+…\(+ \(3000 characters\)": parentheses and "not" nest more than 64 deep$/,
  );
  const f = send(s, { type: 'feasible', user: 'alice', demand: demand(1, 1, `(${'not '.repeat(65)}big)`) });
  assert.equal(f.type === 'error' && f.code, 'BAD_EXPR');
  const g = send(s, { type: 'feasible', user: 'mallory', demand: demand(1, 1, '((big)') });
  assert.deepEqual(g, { type: 'feasibility', id: g.id, problem: 'invalid attribute expression "((big)": missing ")"' });
  assert.equal(s.userByName.get('alice')!.slots.size, 0);
});

test('release of an unknown job is still answered released', () => {
  const s = allocator([node('n1', 2)]);
  register(s, 'alice');
  const r = send(s, { type: 'release', user: 'alice', jobId: 999, queueSize: 4 });
  assert.deepEqual(r, { type: 'released', id: r.id, found: true });
  assert.equal(s.userByName.get('alice')!.queueSize, 4);
});

test('feasible: null when some node could ever run it, else a clear sentence', () => {
  const s = createAllocator(
    [node('node1', 8, { memGB: 23.6, attributes: ['big'] }), node('node2', 4, { memGB: 64, attributes: ['infiband'] })],
    rules('even'),
  );
  setNodeMetrics(s, 'node2', { up: false });
  const problem = (cores: number, memGB: number, attrs: string | null = null): string | null => {
    const r = send(s, { type: 'feasible', user: 'anyone', demand: { cores, memGB, attrs } });
    assert.equal(r.type, 'feasibility');
    return r.type === 'feasibility' ? r.problem : 'wrong reply';
  };
  assert.equal(problem(8, 21.5), null);
  assert.equal(problem(4, 61), null); // node2 is down but could run it once up
  assert.equal(problem(64, 1), 'no node has 64 cores (the largest has 8)');
  assert.equal(problem(1, 1, 'bigmem'), 'no node has attribute "bigmem"');
  assert.equal(problem(1, 1, 'big and infiband'), 'no node matches the attributes "big and infiband"');
  assert.equal(problem(1, 1, 'big and gpu'), 'no node matches the attributes "big and gpu" (no node has attribute "gpu")');
  assert.equal(problem(1, 1, 'node2'), null);
  assert.equal(problem(8, 1, 'infiband'), 'no node matching "infiband" has 8 cores (the largest has 4)');
  assert.equal(problem(1, 62), 'no node has more than 62 GB of memory for jobs');
  assert.equal(problem(1, 21.6, 'big'), 'no node matching "big" has more than 21.6 GB of memory for jobs');
  assert.equal(problem(8, 30), 'no node with 8 cores has more than 21.6 GB of memory for jobs');
  assert.equal(problem(1, 1, 'big and'), 'invalid attribute expression "big and": expected an attribute after "and"');
  assert.equal(problem(0, 1), 'a job needs at least 1 core, not 0');
  const empty = createAllocator([], rules('even'));
  const r = handleMasterMessage(empty, { type: 'feasible', id: 1, user: 'u', demand: demand() }, STRICT);
  assert.deepEqual(r, { type: 'feasibility', id: 1, problem: 'no nodes are configured' });
});

test('status: users in registration order, nodes in file order, used = slots + outsiders', () => {
  const s = allocator([node('n1', 4, { attributes: ['big'], prefMulticore: true }), node('n2', 4)]);
  register(s, 'zoe', [{ jobId: 1, node: 'n1', cores: 2, memGB: 1.5 }], 3);
  register(s, 'adam');
  setNodeMetrics(s, 'n2', { outsiders: 1, load: 0.47, usedMemGB: 7, disk: { usedGB: 3, totalGB: 9 } });
  const r = send(s, { type: 'status', user: 'zoe' });
  assert.ok(r.type === 'status');
  const st = r.status;
  assert.deepEqual(st.users, [
    { name: 'zoe', usedCores: 2, queueSize: 3, minCores: 0, extraCores: 4 },
    { name: 'adam', usedCores: 0, queueSize: 0, minCores: 0, extraCores: 4 },
  ]);
  assert.deepEqual([st.totalCores, st.usedCores, st.warnings], [8, 3, []]);
  assert.deepEqual(st.nodes[0], {
    name: 'n1',
    address: 'n1',
    cores: 4,
    usedCores: 2,
    outsiders: 0,
    load: 0,
    totalMemGB: 64,
    usedMemGB: 0,
    reqMemGB: 3.5,
    disk: null,
    attributes: ['big'],
    up: true,
    drained: false,
    removed: false,
    prefMulticore: true,
  });
  assert.deepEqual([st.nodes[1]!.outsiders, st.nodes[1]!.load, st.nodes[1]!.disk], [1, 0.47, { usedGB: 3, totalGB: 9 }]);
});

test('status warns about slots on unconfigured nodes and failed distributions', () => {
  const s = allocator([node('n1', 2)], 'even minimum 2');
  register(s, 'alice', [{ jobId: 4, node: 'old', cores: 1, memGB: 1 }]);
  register(s, 'bob');
  const r = send(s, { type: 'status', user: 'alice' });
  assert.ok(r.type === 'status');
  assert.deepEqual(r.status.warnings, [
    'the distribution rules could not be applied: Requirement exceeds the number of cores: 2 users × minimum 2 = 4 > 2 cores',
    'job 4 of alice holds 1 core on node old, which is not in the nodes file',
  ]);
});

test('the embedded default: one user registered by its master gets the whole cluster', () => {
  const s = createAllocator([node('localhost', 4)], rules('even'));
  assert.equal(s.users.length, 0);
  addUser(s, 'me');
  assert.deepEqual([s.users[0]!.min, s.users[0]!.extra], [0, 4]);
  for (let j = 1; j <= 4; j++) assert.equal(request(s, 'me', j, 5 - j), 'localhost');
  assert.equal(request(s, 'me', 5, 1), 'no_room');
});

test('nodeLink: a node the master cannot reach gets none of its jobs, other users are unaffected, and it is used again once reachable', () => {
  const s = allocator([node('n1', 4), node('n2', 4)]);
  register(s, 'A');
  register(s, 'B');
  assert.deepEqual(send(s, { type: 'nodeLink', user: 'A', node: 'n1', reachable: false }), { type: 'noted', id: nextId - 1 });
  for (let j = 1; j <= 4; j++) assert.equal(request(s, 'A', j, 10), 'n2', `job ${j} of A avoids n1`);
  assert.equal(request(s, 'A', 5, 6, demand(1, 1, 'n1')), 'no_node', 'a job only n1 can run waits');
  assert.equal(request(s, 'B', 100, 1), 'n1', 'B still reaches n1');
  send(s, { type: 'nodeLink', user: 'A', node: 'n1', reachable: true });
  assert.equal(request(s, 'A', 5, 6, demand(1, 1, 'n1')), 'n1');
  assert.match(JSON.stringify(send(s, { type: 'nodeLink', user: 'C', node: 'n1', reachable: false })), /not registered/);
});
