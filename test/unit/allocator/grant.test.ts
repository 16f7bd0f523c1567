import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseNode, hasRoom, tryGrant, globalFreeCores, borrowableCores, type GrantDemand } from '../../../src/allocator/grant.js';
import { addUser, setNodeMetrics, type AllocatorState, type UserState } from '../../../src/allocator/state.js';
import { parseAttrExpr } from '../../../src/allocator/attributes.js';
import { chargeSlot } from '../../../src/allocator/accounting.js';
import { allocator, assertBalanced, node } from './fixtures.js';

/** §3.6's observed cluster: node1 (4 cores, big), node2 (3 cores, infiband). */
function observed(): { s: AllocatorState; u: UserState } {
  const s = allocator([node('node1', 4, { attributes: ['big'] }), node('node2', 3, { attributes: ['infiband'] })]);
  return { s, u: addUser(s, 'alice', 10) };
}

let nextJob = 1;
function place(s: AllocatorState, u: UserState, demand: Partial<GrantDemand> = {}): string {
  const r = tryGrant(s, u, nextJob++, { cores: 1, memGB: 1, attrs: null, ...demand });
  if (!r.ok) return r.reason;
  return r.node.spec.name;
}

test('§3.6 observed: a 1-core job goes to node1 (4 free beat 3)', () => {
  const { s, u } = observed();
  assert.equal(place(s, u), 'node1');
});

test('§3.6 observed: a 2-core job goes to node1 (first fit)', () => {
  const { s, u } = observed();
  assert.equal(place(s, u, { cores: 2 }), 'node1');
});

test('§3.6 observed: -a big goes to node1', () => {
  const { s, u } = observed();
  assert.equal(place(s, u, { attrs: 'big' }), 'node1');
});

test("§3.6 observed: -a 'not big' with 3 cores goes to node2", () => {
  const { s, u } = observed();
  assert.equal(place(s, u, { cores: 3, attrs: 'not big' }), 'node2');
});

test('§3.6 observed: three 1-core jobs go to node1, node1, node2', () => {
  const { s, u } = observed();
  assert.deepEqual([place(s, u), place(s, u), place(s, u)], ['node1', 'node1', 'node2']);
  assertBalanced(s);
});

test('FIXED: best fit skips a down node (HEAD picked it and the launch failed)', () => {
  const { s, u } = observed();
  setNodeMetrics(s, 'node1', { up: false });
  assert.equal(place(s, u), 'node2');
  assert.equal(place(s, u, { cores: 2 }), 'node2');
  assert.equal(place(s, u, { cores: 1, attrs: 'big' }), 'no_node');
  setNodeMetrics(s, 'node2', { up: false });
  assert.equal(place(s, u), 'no_node');
});

test('multicore-preferred nodes take 1-core jobs only when no other node can', () => {
  const s = allocator([node('m1', 4, { prefMulticore: true }), node('n2', 2)]);
  const u = addUser(s, 'alice', 10);
  assert.deepEqual([place(s, u), place(s, u)], ['n2', 'n2']);
  assert.equal(place(s, u), 'm1'); // n2 is full: first fit falls back to m1
  assert.equal(place(s, u, { cores: 3 }), 'm1');
  assert.equal(place(s, u), 'no_room'); // all 6 cores used: step A refuses first
});

test('multicore jobs take the first fitting node, even a preferred one', () => {
  const s = allocator([node('m1', 4, { prefMulticore: true }), node('n2', 4)]);
  const u = addUser(s, 'alice', 10);
  assert.equal(place(s, u, { cores: 2 }), 'm1');
  assert.equal(place(s, u), 'n2');
});

test('memory: best fit needs avail_mem > m and free_mem > m; first fit only avail_mem > m', () => {
  const s = allocator([node('a', 4, { memGB: 10 }), node('b', 2, { memGB: 10 })]);
  const u = addUser(s, 'alice', 10);
  // avail = 10 - 2 = 8 on both; 8 GB is not strictly less.
  assert.equal(place(s, u, { memGB: 8 }), 'no_node');
  setNodeMetrics(s, 'a', { usedMemGB: 9 }); // a: free_mem 1
  assert.equal(place(s, u, { memGB: 3 }), 'b'); // best fit skips a (free_mem), takes b
  setNodeMetrics(s, 'b', { usedMemGB: 9 });
  assert.equal(place(s, u, { memGB: 3 }), 'a'); // nobody passes best fit; first fit ignores free_mem
  assert.equal(s.nodeByName.get('a')!.reqMemGB, 5);
  assert.equal(place(s, u, { memGB: 4.9, cores: 2 }), 'a'); // first fit: avail 5 > 4.9
  assert.equal(place(s, u, { memGB: 0.2 }), 'b'); // a has only 0.1 GB left to promise
});

test("outsiders lower a node's free cores in step B but not the global room of step A", () => {
  const s = allocator([node('a', 4), node('b', 3)]);
  const u = addUser(s, 'alice', 10);
  setNodeMetrics(s, 'a', { outsiders: 2 });
  assert.equal(place(s, u), 'b'); // a has 2 free, b 3
  setNodeMetrics(s, 'b', { outsiders: 3 });
  assert.equal(globalFreeCores(s), 6);
  assert.equal(place(s, u, { cores: 3 }), 'no_node');
  assert.equal(place(s, u, { cores: 2 }), 'a');
});

test('node name in an expression pins the job', () => {
  const { s, u } = observed();
  assert.equal(place(s, u, { attrs: 'node2' }), 'node2');
  assert.equal(place(s, u, { attrs: 'gpu' }), 'no_node');
  const expr = parseAttrExpr('(big)or(infiband)');
  assert.ok(expr.ok);
  assert.equal(chooseNode(s, 4, 1, expr.expr)?.spec.name, 'node1');
});

test('invalid demands are reported, never placed', () => {
  const { s, u } = observed();
  const bad = (d: Partial<GrantDemand>): string => {
    const r = tryGrant(s, u, nextJob++, { cores: 1, memGB: 1, attrs: null, ...d });
    assert.ok(!r.ok && r.reason === 'invalid');
    return `${r.code}: ${r.message}`;
  };
  assert.equal(bad({ attrs: 'big and' }), 'INVALID_EXPRESSION: invalid attribute expression "big and": expected an attribute after "and"');
  assert.match(bad({ cores: 0 }), /^BAD_REQUEST: a job needs at least 1 core/);
  assert.match(bad({ memGB: -1 }), /^BAD_REQUEST: memory must be 0 GB or more/);
  assert.match(bad({ cores: 2 ** 53 - 1 }), /^BAD_REQUEST: a job may ask for at most 1000000 cores/);
  assert.match(bad({ memGB: 1e300 }), /^BAD_REQUEST: a job may ask for at most 1000000 GB/);
  assert.match(bad({ memGB: NaN }), /^BAD_REQUEST: memory must be 0 GB or more/);
  assert.equal(s.usedCores, 0);
});

test('a repeated request for a job that holds a slot returns that slot, charging nothing', () => {
  const { s, u } = observed();
  const first = tryGrant(s, u, 500, { cores: 2, memGB: 1, attrs: null });
  const again = tryGrant(s, u, 500, { cores: 2, memGB: 1, attrs: null });
  assert.ok(first.ok && again.ok);
  assert.equal(again.slot, first.slot);
  assert.equal(s.usedCores, 2);
  assertBalanced(s);
});

test('step A: within guarantee even when the cluster looks full; within share needs free cores', () => {
  const s = allocator([node('n', 4)], 'explicit\na 2+0\nb 0');
  const a = addUser(s, 'a', 5);
  const b = addUser(s, 'b', 5);
  assert.deepEqual([a.min, a.extra, b.min, b.extra], [2, 1, 0, 1]);
  // Global free = (4 - 0) - (2 - 0) = 2: b may use 2 without touching a's guarantee.
  assert.equal(hasRoom(s, b, 1), true);
  assert.equal(place(s, b), 'n');
  // b is at its share (1): to borrow it needs idle users; a has a queue, so none.
  assert.equal(hasRoom(s, b, 1), false);
  assert.equal(hasRoom(s, a, 2), true); // inside a's guarantee
  a.queueSize = 0;
  assert.equal(borrowableCores(s, b), 1); // a lends min(1 + 2 - 0, 1) = 1
  assert.equal(hasRoom(s, b, 1), true);
});

test('borrowing: an idle user’s cores are split between the competitors, the remainder to the earliest registered (no core left idle)', () => {
  const s = allocator([node('n1', 8), node('n2', 8)]);
  for (const u of ['ann', 'ben', 'cat']) addUser(s, u);
  const [ann, ben, cat] = s.users as [UserState, UserState, UserState];
  assert.deepEqual(
    s.users.map((u) => u.min + u.extra),
    [6, 5, 5],
  );
  ann.queueSize = 10;
  ben.queueSize = 10;
  cat.queueSize = 0;
  for (let j = 0; j < 6; j++) chargeSlot(s, ann, { jobId: j, node: 'n1', cores: 1, memGB: 0 });
  for (let j = 0; j < 5; j++) chargeSlot(s, ben, { jobId: 100 + j, node: 'n2', cores: 1, memGB: 0 });
  // cat lends 5 to two competitors: 3 for ann (registered first), 2 for ben; all 16 cores can be used.
  assert.equal(borrowableCores(s, ann), 3);
  assert.equal(borrowableCores(s, ben), 2);
  // A lone competitor gets all of it; nothing lendable gives nothing.
  ben.queueSize = 0;
  assert.equal(borrowableCores(s, ann), 5);
  cat.queueSize = 3;
  assert.equal(borrowableCores(s, ann), 0, 'ben lends nothing: it has no unused share');
});
