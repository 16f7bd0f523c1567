import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleMasterMessage, createAllocator, addUser, type HandleOptions } from '../../../src/allocator/handle.js';
import { setNodeMetrics, type AllocatorState } from '../../../src/allocator/state.js';
import type { AllocatorToMaster, Demand, MasterToAllocator, Slot } from '../../../src/protocol/master-allocator.js';
import { allocatorToMasterSchema } from '../../../src/protocol/master-allocator.js';
import { allocator, assertBalanced, node, rules } from './fixtures.js';

let nextId = 1;

/** Send one message, check the reply against the wire schema and its id. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

const STRICT: HandleOptions = { trustRegistrations: false };
const TRUSTED: HandleOptions = { trustRegistrations: true };

function send(s: AllocatorState, msg: WithoutId<MasterToAllocator>, opts = STRICT): AllocatorToMaster {
  const id = nextId++;
  const reply = handleMasterMessage(s, { ...msg, id } as MasterToAllocator, opts);
  assert.deepEqual(allocatorToMasterSchema(JSON.parse(JSON.stringify(reply)), '$'), reply);
  assert.equal(reply.id, id);
  assert.equal(assertBalanced(s), undefined);
  return reply;
}

const demand = (cores = 1, memGB = 1, attrs: string | null = null): Demand => ({ cores, memGB, attrs });

function request(s: AllocatorState, user: string, jobId: number, queueSize: number, d = demand()): string {
  const r = send(s, { type: 'request', user, jobId, demand: d, queueSize });
  if (r.type === 'granted') return r.node;
  if (r.type === 'refused') return r.reason;
  if (r.type === 'error') return `error ${r.code}: ${r.message}`;
  return r.type;
}

/** Register as the embedded allocator's master does (trusted), unless `opts` says otherwise. */
function register(s: AllocatorState, user: string, running: Slot[] = [], queueSize = 0, opts = TRUSTED): AllocatorToMaster {
  return send(s, { type: 'register', user, running, queueSize }, opts);
}

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

test('trusted (embedded) register charges running slots without capacity checks (§3.9)', () => {
  const s = allocator([node('n1', 2)]);
  register(
    s,
    'alice',
    [
      { jobId: 1, node: 'n1', cores: 2, memGB: 1 },
      { jobId: 2, node: 'n1', cores: 2, memGB: 1 },
    ],
    5,
  );
  const n = s.nodeByName.get('n1')!;
  assert.deepEqual([n.usedCores, s.usedCores, n.reqMemGB], [4, 4, 4]);
  assert.equal(s.userByName.get('alice')!.queueSize, 5);
  assert.equal(request(s, 'alice', 3, 5), 'no_room');
});

test('trusted re-register reconciles to exactly the reported slots; counters never go negative', () => {
  const s = allocator([node('n1', 8), node('n2', 8)], 'even minimum 2');
  register(s, 'alice', [
    { jobId: 1, node: 'n1', cores: 2, memGB: 1 },
    { jobId: 2, node: 'n1', cores: 1, memGB: 1 },
  ]);
  register(s, 'bob');
  // Same list again: nothing double-charged.
  register(s, 'alice', [
    { jobId: 1, node: 'n1', cores: 2, memGB: 1 },
    { jobId: 2, node: 'n1', cores: 1, memGB: 1 },
  ]);
  assert.equal(s.usedCores, 3);
  // Job 1 gone, job 2 moved and resized, job 3 new.
  register(s, 'alice', [
    { jobId: 2, node: 'n2', cores: 3, memGB: 2 },
    { jobId: 3, node: 'n1', cores: 1, memGB: 1 },
  ]);
  assert.deepEqual([s.nodeByName.get('n1')!.usedCores, s.nodeByName.get('n2')!.usedCores, s.usedCores], [1, 3, 4]);
  assert.equal(s.usedMinCores, 2);
  // Releases after re-registration, including repeats, and an empty re-registration.
  send(s, { type: 'release', user: 'alice', jobId: 2, queueSize: 0 });
  send(s, { type: 'release', user: 'alice', jobId: 2, queueSize: 0 });
  register(s, 'alice', []);
  send(s, { type: 'release', user: 'alice', jobId: 3, queueSize: 0 });
  assert.deepEqual([s.usedCores, s.usedMinCores, s.nodeByName.get('n1')!.usedCores, s.nodeByName.get('n1')!.reqMemGB], [0, 0, 0, 2]);
});

test('register rejects a malformed running list before changing anything', () => {
  const s = allocator([node('n1', 8)]);
  const dup = register(s, 'alice', [
    { jobId: 1, node: 'n1', cores: 1, memGB: 1 },
    { jobId: 1, node: 'n1', cores: 1, memGB: 1 },
  ]);
  assert.equal(dup.type === 'error' && dup.message, 'job 1 is reported twice');
  assert.equal(s.users.length, 0);
  const zero = register(s, 'alice', [{ jobId: 1, node: 'n1', cores: 0, memGB: 1 }]);
  assert.equal(zero.type === 'error' && zero.code, 'BAD_REQUEST');
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

/** A register sent to the shared daemon (strict), its reply's refused list as [jobId, reason] pairs. */
function registerStrict(s: AllocatorState, user: string, running: Slot[], queueSize = 0): [number, string][] {
  const r = register(s, user, running, queueSize, STRICT);
  assert.equal(r.type, 'registered', JSON.stringify(r));
  return r.type === 'registered' ? r.refused.map((x) => [x.jobId, x.reason]) : [];
}

test('strict register (the shared daemon): only slots it granted to this user, as granted, are kept; the rest is refused and never counted', () => {
  const s = allocator([node('n1', 4, { memGB: 16 }), node('big', 2, { memGB: 64, attributes: ['bigmem'] })]);
  assert.deepEqual(registerStrict(s, 'alice', []), []);
  assert.deepEqual(registerStrict(s, 'bob', []), []);
  assert.equal(request(s, 'alice', 1, 2, demand(2, 4)), 'n1');
  assert.equal(request(s, 'bob', 7, 1, demand(1, 2)), 'n1');
  const granted = { jobId: 1, node: 'n1', cores: 2, memGB: 4 };
  // The honest report: nothing refused, nothing charged twice.
  assert.deepEqual(registerStrict(s, 'alice', [granted], 3), []);
  assert.deepEqual([s.usedCores, s.userByName.get('alice')!.usedCores, s.userByName.get('alice')!.queueSize], [3, 2, 3]);
  // The attack of issue 12: slots never granted, bob's job id, the held job changed.
  const refused = registerStrict(s, 'alice', [
    { ...granted, cores: 4 },
    { jobId: 2, node: 'big', cores: 2, memGB: 60 },
    { jobId: 7, node: 'n1', cores: 1, memGB: 2 },
  ]);
  assert.deepEqual(refused, [
    [1, 'job 1 was granted 2 cores and 4 GB on n1, not 4 cores and 4 GB on n1'],
    [2, 'job 2 holds no slot granted to this user (never granted, or already released)'],
    [7, 'job 7 holds no slot granted to this user (never granted, or already released)'],
  ]);
  assert.deepEqual(
    [s.usedCores, s.nodeByName.get('big')!.usedCores, s.nodeByName.get('n1')!.usedCores],
    [3, 0, 3],
    'nothing charged; job 1 stays as granted',
  );
  assert.equal(request(s, 'bob', 8, 1, demand(2, 1, 'bigmem')), 'big', 'the bigmem node is free for everyone');
  // A held slot not reported is released; reporting it again later does not bring it back.
  assert.deepEqual(registerStrict(s, 'alice', []), []);
  assert.equal(s.userByName.get('alice')!.usedCores, 0);
  assert.deepEqual(registerStrict(s, 'alice', [granted]), [
    [1, 'job 1 holds no slot granted to this user (never granted, or already released)'],
  ]);
  assert.equal(s.userByName.get('alice')!.usedCores, 0);
  // A new user reporting running jobs gets none of them.
  assert.equal(registerStrict(s, 'mallory', [{ jobId: 1, node: 'n1', cores: 1, memGB: 1 }]).length, 1);
  assert.equal(s.userByName.get('mallory')!.usedCores, 0);
});

test('every number a master reports is bounded: a register breaking a bound changes nothing, in either mode', () => {
  for (const opts of [STRICT, TRUSTED]) {
    const s = allocator([node('n1', 8)]);
    const slot = { jobId: 1, node: 'n1', cores: 1, memGB: 1 };
    const cases: [Partial<Slot>, RegExp][] = [
      [{ cores: 2 ** 53 - 1 }, /^job 1 is reported with 9007199254740991 cores \(1 to 1000000\)$/],
      [{ cores: 0 }, /reported with 0 cores/],
      [{ cores: 1.5 }, /reported with 1.5 cores/],
      [{ memGB: -1 }, /reported with -1 GB of memory/],
      [{ memGB: 1e7 }, /reported with 10000000 GB of memory/],
      [{ memGB: Infinity }, /reported with Infinity GB/],
      [{ jobId: -3 }, /^job id -3 is not a whole number of 0 or more$/],
      [{ node: '' }, /^job 1 is reported on no node$/],
    ];
    for (const [bad, message] of cases) {
      const r = register(s, 'alice', [{ ...slot, ...bad }], 0, opts);
      assert.ok(r.type === 'error' && r.code === 'BAD_REQUEST', JSON.stringify(r));
      assert.match(r.type === 'error' ? r.message : '', message);
      assert.equal(s.users.length, 0);
    }
    const q = register(s, 'alice', [], 2e9, opts);
    assert.match(q.type === 'error' ? q.message : '', /^the queue size 2000000000 is not an integer from 0 to 1000000000$/);
    // Status stays valid whatever was sent (send checks it against the wire schema).
    register(s, 'alice', [], 0, opts);
    request(s, 'alice', 5, 2 ** 53 - 1);
    assert.equal(s.userByName.get('alice')!.queueSize, 1_000_000_000);
    assert.equal(send(s, { type: 'status', user: 'alice' }).type, 'status');
  }
});

test('a removed user whose registration leaves it holding nothing is forgotten, as after its last release', () => {
  const s = allocator([node('n1', 4)]);
  register(s, 'alice', [], 0, STRICT);
  register(s, 'bob', [], 0, STRICT);
  assert.equal(request(s, 'alice', 1, 1), 'n1');
  s.userByName.get('alice')!.removed = true;
  register(s, 'alice', [{ jobId: 1, node: 'n1', cores: 1, memGB: 1 }], 0, STRICT);
  assert.equal(s.userByName.has('alice'), true, 'its job still runs');
  register(s, 'alice', [], 0, STRICT);
  assert.deepEqual(
    s.users.map((u) => [u.name, u.extra]),
    [['bob', 4]],
  );
});
