/**
 * Fair share of the GPUs (issue 16), as the cores are shared: the rules'
 * GPU parts (`gpus=` in an explicit file, `gpu_minimum`, or an even split),
 * step A's limits (minimum, share, borrowing from users with no GPU job
 * waiting), and even shares between three users contending for 8 GPUs
 * staying within ±1 GPU whatever order they ask in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../helpers/prng.js';
import { gpuRules, parseRules } from '../../../src/allocator/rules.js';
import { borrowableGpus } from '../../../src/allocator/gpu-share.js';
import type { AllocatorState } from '../../../src/allocator/state.js';
import { allocator, assertBalanced, node, rules } from './fixtures.js';
import { register, send, STRICT } from './handle-helpers.js';

function ask(s: AllocatorState, user: string, jobId: number, gpus: number, gpuQueue = 1): string {
  const r = send(s, { type: 'request', user, jobId, demand: { cores: 1, memGB: 1, attrs: null, gpus }, queueSize: gpuQueue, gpuQueue });
  return r.type === 'granted' ? 'granted' : r.type === 'refused' ? r.reason : r.type;
}

const shares = (s: AllocatorState) => s.users.map((u) => [u.name, u.gpu.min, u.gpu.extra]);

test('parse: gpu_minimum in the header, gpus= parts on user lines; errors name the line', () => {
  const r = parseRules('explicit minimum 1 gpu_minimum 1\nalice 40% gpus=1+50%\nbob=2 gpus=3\ncarol 10\n');
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.rules.gpuMinimum, 1);
  assert.deepEqual(r.rules.entries[0]!.gpus, { min: 1, amount: 50, percent: true });
  assert.deepEqual(r.rules.entries[1]!.gpus, { min: null, amount: 3, percent: false });
  assert.equal(r.rules.entries[2]!.gpus, undefined);
  assert.deepEqual(gpuRules(r.rules), {
    type: 'explicit',
    minimum: 1,
    entries: [
      { user: 'alice', min: 1, amount: 50, percent: true, line: 2 },
      { user: 'bob', min: null, amount: 3, percent: false, line: 3 },
    ],
  });
  assert.deepEqual(gpuRules(rules('explicit\nalice 4\n')), { type: 'even', minimum: 0, entries: [] });
  for (const [text, msg] of [
    ['explicit\nalice 4 gpus=1.5', /line 2: gpus=: the share of user alice must be a whole number of GPUs or a percentage/],
    ['explicit\nalice 4 gpus=lots', /line 2: gpus=: invalid share "lots"/],
    ['even gpu_minimum x', /line 1: "gpu_minimum" needs a non-negative integer number of GPUs, got "x"/],
    ['even minimum 1 minimum 2', /line 1: unexpected "minimum" after "minimum 1"/],
  ] as const) {
    const bad = parseRules(text);
    assert.ok(!bad.ok && msg.test(bad.message), `${text}: ${bad.ok ? 'ok' : bad.message}`);
  }
});

test('even: the GPUs (devices × gpu_share) split evenly; explicit gpus= parts; a failing GPU distribution keeps the cores', () => {
  const s = allocator([node('a', 8, { gpus: 4 }), node('b', 8, { gpus: 2, gpuShare: 2 }), node('c', 8)]);
  for (const u of ['u1', 'u2', 'u3']) register(s, u, [], 0, STRICT);
  assert.equal(s.gpu.total, 8);
  assert.deepEqual(shares(s), [
    ['u1', 0, 3],
    ['u2', 0, 3],
    ['u3', 0, 2],
  ]);
  const e = allocator([node('a', 8, { gpus: 8 })], 'explicit gpu_minimum 1\nu1 50% gpus=1+2\nu2 50% gpus=50%\n');
  for (const u of ['u1', 'u2', 'u3']) register(e, u, [], 0, STRICT);
  // Minimums: u1 1 (its own), u2 and u3 the gpu_minimum 1; 5 left: u1 2, u2 50% = 2 (floored), the remainder 1 round-robin to u1.
  assert.deepEqual(shares(e), [
    ['u1', 1, 3],
    ['u2', 1, 2],
    ['u3', 1, 0],
  ]);
  const tooMany = allocator([node('a', 8, { gpus: 2 })], 'even gpu_minimum 1');
  for (const u of ['u1', 'u2', 'u3']) register(tooMany, u, [], 0, STRICT);
  assert.match(tooMany.gpu.error ?? '', /Requirement exceeds the number of GPUs: 3 users × gpu_minimum 1 = 3 > 2 GPUs/);
  assert.equal(tooMany.distributionError, null);
});

test('step A: within the share while GPUs are free; beyond it only by borrowing from users with no GPU job waiting', () => {
  const s = allocator([node('a', 16, { gpus: 4 })]);
  for (const u of ['u1', 'u2']) register(s, u, [], 0, STRICT);
  // u1's share is 2. u2 has no GPU job waiting: u1 borrows its 2.
  assert.deepEqual(
    [1, 2, 3, 4].map((j) => ask(s, 'u1', j, 1, 5)),
    ['granted', 'granted', 'granted', 'granted'],
  );
  send(s, { type: 'release', user: 'u1', jobId: 4, queueSize: 5, gpuQueue: 5 });
  send(s, { type: 'release', user: 'u1', jobId: 3, queueSize: 5, gpuQueue: 5 });
  // Now u2 waits for GPUs too: u1, at its share, may not take more.
  assert.equal(ask(s, 'u2', 11, 1, 3), 'granted');
  assert.equal(ask(s, 'u1', 5, 1, 5), 'no_gpu_room');
  assert.equal(borrowableGpus(s, s.userByName.get('u1')!), 0);
  assert.equal(ask(s, 'u2', 12, 1, 2), 'granted');
  assert.equal(ask(s, 'u2', 13, 1, 1), 'no_gpu_room');
  assertBalanced(s);
});

test('even shares between three users contending for 8 GPUs stay within ±1 once the jobs that borrowed have ended', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const rng = new Rng(seed);
    const s = allocator([node('a', 64, { gpus: 4 }), node('b', 64, { gpus: 4 })]);
    const users = ['u1', 'u2', 'u3'];
    for (const u of users) register(s, u, [], 0, STRICT);
    const held = new Map(users.map((u) => [u, [] as number[]]));
    let job = 1;
    const take = (u: string) => {
      const id = job++;
      if (ask(s, u, id, 1, 10) === 'granted') held.get(u)!.push(id);
    };
    // u1 alone wants GPUs: it borrows the others' shares and takes all 8.
    for (let i = 0; i < 8; i++) take('u1');
    assert.equal(held.get('u1')!.length, 8);
    // Then all three contend: jobs end one at a time (a random holder's oldest), and everyone asks again.
    for (let step = 0; step < 80; step++) {
      const holders = users.filter((u) => held.get(u)!.length > 0);
      const u = rng.pick(holders);
      send(s, { type: 'release', user: u, jobId: held.get(u)!.shift()!, queueSize: 10, gpuQueue: 10 });
      for (const x of [...users].sort(() => rng.int(-1, 1))) take(x);
      const used = users.map((x) => s.userByName.get(x)!.gpu.used);
      if (step >= 60) assert.ok(Math.max(...used) - Math.min(...used) <= 1, `seed ${seed}, step ${step}: ${used.join(' ')}`);
    }
    assert.deepEqual(users.map((x) => s.userByName.get(x)!.gpu.used).sort(), [2, 3, 3], `seed ${seed}`);
    assertBalanced(s);
  }
});
