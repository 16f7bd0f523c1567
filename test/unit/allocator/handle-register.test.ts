/**
 * The allocator's handling of a master's register (handle.ts): trusted
 * (embedded) registers charge what they report, strict ones (the shared
 * daemon) keep only slots it granted; every number a master reports is
 * bounded; a removed user holding nothing is forgotten.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AllocatorState } from '../../../src/allocator/state.js';
import type { Slot } from '../../../src/protocol/master-allocator.js';
import { allocator, node } from './fixtures.js';
import { STRICT, TRUSTED, send, demand, request, register } from './handle-helpers.js';

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

/** A register sent to qpy-multiuser (strict), its reply's refused list as [jobId, reason] pairs. */
function registerStrict(s: AllocatorState, user: string, running: Slot[], queueSize = 0): [number, string][] {
  const r = register(s, user, running, queueSize, STRICT);
  assert.equal(r.type, 'registered', JSON.stringify(r));
  return r.type === 'registered' ? r.refused.map((x) => [x.jobId, x.reason]) : [];
}

test('strict register (qpy-multiuser): only slots it granted to this user, as granted, are kept; the rest is refused and never counted', () => {
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
