/**
 * A Slurm pool's pilot nodes in the allocator (issue 18): joining and
 * leaving (allocator/pilot-nodes.ts), kept across a nodes-file reload, the
 * time bound of a pilot near its end (grant.ts fitsTime), and feasibility
 * with only a pool (feasible.ts). What `why` says of them: pool-why.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinPilot, leavePilot, pilotSpec, setJobTime, setPools } from '../../../src/allocator/pilot-nodes.js';
import { reloadNodes } from '../../../src/allocator/admin.js';
import { tryGrant, type GrantDemand } from '../../../src/allocator/grant.js';
import { checkFeasible, type FeasibilityDemand } from '../../../src/allocator/feasible.js';
import { buildStatus } from '../../../src/allocator/status.js';
import { addUser, MEM_RESERVE_GB, type AllocatorState, type UserState } from '../../../src/allocator/state.js';
import { allocator, assertBalanced, node } from './fixtures.js';
import { send } from './handle-helpers.js';
import { pilot, poolView } from './pool-fixtures.js';

let nextJob = 1;
function grant(s: AllocatorState, u: UserState, d: Partial<GrantDemand> = {}): string {
  const r = tryGrant(s, u, nextJob++, { cores: 1, memGB: 1, attrs: null, ...d });
  return r.ok ? r.node.spec.name : r.reason;
}

test("pilotSpec: the pool's name is an attribute and all the pilot's memory is for jobs", () => {
  assert.deepEqual(pilotSpec(pilot('1')), {
    name: 'p-1',
    address: 'h1',
    cores: 4,
    memGB: 8 + MEM_RESERVE_GB,
    attributes: ['p'],
    prefMulticore: false,
    checkDir: null,
  });
});

test("joinPilot: the pilot's node takes jobs at once; its cores count", () => {
  const s = allocator([node('n1', 2)]);
  const u = addUser(s, 'alice', 5);
  joinPilot(s, pilot('1'));
  assert.equal(s.totalCores, 6);
  const n = s.nodeByName.get('p-1')!;
  assert.deepEqual(n.pilot, { pool: 'p', jobId: '1' });
  assert.equal(n.jobTime, null);
  assert.equal(grant(s, u, { cores: 3, attrs: 'p' }), 'p-1');
  assert.equal(grant(s, u, { cores: 1, memGB: 4.9, attrs: 'p' }), 'p-1', 'its 8 GB are for jobs: 3 + 4.9 < 8');
  assert.equal(grant(s, u, { cores: 1, attrs: 'not p' }), 'n1');
  assertBalanced(s);
  const view = buildStatus(s).nodes.find((v) => v.name === 'p-1')!;
  assert.deepEqual(view.pilot, { pool: 'p', jobId: '1', maxJobS: null, untimed: true });
});

test('joinPilot again under the same name takes the node over (a pilot known again after a restart)', () => {
  const s = allocator([]);
  const u = addUser(s, 'alice', 5);
  joinPilot(s, pilot('1'));
  assert.equal(grant(s, u, { cores: 2 }), 'p-1');
  joinPilot(s, pilot('1', { address: 'elsewhere', cores: 8 }));
  assert.equal(s.nodes.length, 1);
  const n = s.nodeByName.get('p-1')!;
  assert.equal(n.spec.address, 'elsewhere');
  assert.equal(n.slotCount, 1, 'its running job stays');
  assert.equal(s.totalCores, 8);
  assertBalanced(s);
});

test('leavePilot of an idle node: gone at once, its cores no longer counted', () => {
  const s = allocator([node('n1', 2)]);
  joinPilot(s, pilot('1'));
  assert.equal(leavePilot(s, 'p-1'), true);
  assert.equal(s.nodeByName.has('p-1'), false);
  assert.deepEqual(
    s.nodes.map((n) => n.spec.name),
    ['n1'],
  );
  assert.equal(s.totalCores, 2);
  assert.equal(leavePilot(s, 'p-1'), false, 'no longer known');
  assert.equal(leavePilot(s, 'n1'), false, "a file's node is not a pilot's");
  assert.equal(s.nodeByName.get('n1')!.removed, false);
  assertBalanced(s);
});

test('leavePilot of a busy node: listed, taking no job, until its last slot is released, then pruned', () => {
  const s = allocator([node('n1', 4)]);
  send(s, { type: 'register', user: 'alice', running: [], queueSize: 5 }, { trustRegistrations: true });
  joinPilot(s, pilot('1'));
  const req = (jobId: number) =>
    send(s, { type: 'request', user: 'alice', jobId, demand: { cores: 1, memGB: 1, attrs: 'p' }, queueSize: 3 });
  assert.equal(req(1).type, 'granted');
  assert.equal(req(2).type, 'granted');
  setJobTime(s, 'p-1', 100, false);
  assert.equal(leavePilot(s, 'p-1'), true);
  const n = s.nodeByName.get('p-1')!;
  assert.equal(n.removed, true);
  assert.equal(n.jobTime, null);
  assert.equal(s.totalCores, 4);
  assert.deepEqual({ ...req(3), id: 0 }, { type: 'refused', id: 0, jobId: 3, reason: 'no_node' });
  assert.ok(buildStatus(s).nodes.some((v) => v.name === 'p-1' && v.removed));
  send(s, { type: 'release', user: 'alice', jobId: 1, queueSize: 3 });
  assert.ok(s.nodeByName.has('p-1'), 'one job still runs there');
  send(s, { type: 'release', user: 'alice', jobId: 2, queueSize: 3 });
  assert.equal(s.nodeByName.has('p-1'), false);
  assert.equal(s.nodes.length, 1);
  assertBalanced(s);
});

test('reloadNodes keeps pilot nodes: they are the pool runner’s, not the file’s', () => {
  const s = allocator([node('n1', 2)]);
  const u = addUser(s, 'alice', 5);
  joinPilot(s, pilot('1'));
  joinPilot(s, pilot('2'));
  assert.equal(grant(s, u, { attrs: 'p' }), 'p-1');
  leavePilot(s, 'p-1'); // busy: listed until its job ends
  const diff = reloadNodes(s, [node('n1', 2), node('n2', 3)]);
  assert.deepEqual(diff, { added: ['n2'], removed: [], changed: [] });
  assert.deepEqual(
    s.nodes.map((n) => [n.spec.name, n.removed]),
    [
      ['n1', false],
      ['n2', false],
      ['p-1', true],
      ['p-2', false],
    ],
  );
  assert.equal(s.totalCores, 2 + 3 + 4);
  const empty = reloadNodes(s, []);
  assert.deepEqual(empty.removed, ['n1', 'n2']);
  assert.deepEqual(
    s.nodes.map((n) => n.spec.name),
    ['p-1', 'p-2'],
  );
  assert.equal(grant(s, u, {}), 'p-2');
  assertBalanced(s);
});

test('fitsTime: a pilot bound by its time left refuses a longer -t, and a job without -t once near its end', () => {
  const s = allocator([]);
  const u = addUser(s, 'alice', 5);
  joinPilot(s, pilot('1'));
  assert.equal(grant(s, u, {}), 'p-1', 'no bound yet');
  assert.equal(setJobTime(s, 'p-1', 600, true), true);
  assert.equal(grant(s, u, { time: 601 }), 'no_node');
  assert.equal(grant(s, u, { time: 600 }), 'p-1');
  assert.equal(grant(s, u, {}), 'p-1', 'untimed: a job without -t may start');
  setJobTime(s, 'p-1', 300, false);
  assert.equal(grant(s, u, {}), 'no_node');
  assert.equal(grant(s, u, { time: 301 }), 'no_node');
  assert.equal(grant(s, u, { time: 300 }), 'p-1');
  assert.equal(setJobTime(s, 'nope', 1, true), false);
  assertBalanced(s);
});

test('fitsTime: a job that does not fit a pilot goes to another node', () => {
  const s = allocator([node('n1', 1)]);
  const u = addUser(s, 'alice', 5);
  joinPilot(s, pilot('1'));
  setJobTime(s, 'p-1', 60, false);
  assert.equal(grant(s, u, { time: 120 }), 'n1');
  assert.equal(grant(s, u, { time: 120 }), 'no_node');
  assert.equal(setJobTime(s, 'n1', 1, false), false, "a file's node has no time bound");
  assert.equal(s.nodeByName.get('n1')!.jobTime, null);
});

test('checkFeasible with only a pool: cores, memory, attribute (its name) and time judged as a pilot would', () => {
  const s = allocator([]);
  const d = (over: Partial<FeasibilityDemand> = {}): string | null => checkFeasible(s, { cores: 1, memGB: 1, attrs: null, ...over });
  assert.equal(d(), 'no nodes are configured');
  setPools(s, [poolView()]);
  assert.equal(d(), null);
  assert.equal(d({ cores: 4, memGB: 7.9 }), null);
  assert.equal(d({ cores: 5 }), 'no node has 5 cores (the largest has 4)');
  assert.equal(d({ memGB: 8 }), 'no node has more than 8 GB of memory for jobs');
  assert.equal(d({ attrs: 'p' }), null);
  assert.equal(d({ attrs: 'gpu' }), 'no node has attribute "gpu"');
  assert.equal(d({ attrs: 'p and not big' }), null);
  assert.equal(d({ time: 3570 }), null, 'time=1:00:00 less its 30 s margin');
  assert.equal(
    d({ time: 3571 }),
    "no node can run a job of -t 00:59:31: a Slurm pool's pilot leaves at most 00:59:30 for a job (its time= less a safety margin)",
  );
  assert.equal(d({ gpus: 1 }) !== null, true, 'a pilot has no GPU');
});

test('checkFeasible: a job too long for a pool still fits a node of the file; the longest pool is named', () => {
  const s = allocator([node('n1', 2)]);
  setPools(s, [poolView(), poolView({ name: 'q', timeLimitS: 7200 })]);
  const d = (over: Partial<FeasibilityDemand> = {}) => checkFeasible(s, { cores: 1, memGB: 1, attrs: null, ...over });
  assert.equal(d({ time: 86_400 }), null, 'n1 has no time limit');
  assert.match(d({ time: 86_400, cores: 4 })!, /^no node can run a job of -t 1-00:00:00: .* at most 01:59:30 for a job/);
  assert.match(d({ time: 3600, attrs: 'p' })!, /^no node matching "p" can run a job of -t 01:00:00: .* at most 00:59:30/);
  assert.equal(d({ time: 3600, attrs: 'q' }), null);
});
