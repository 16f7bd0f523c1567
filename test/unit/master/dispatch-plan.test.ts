/**
 * The dispatch pass as the core plans it (src/master/dispatch-plan.ts):
 * dependants that can never run, array caps, skipping after "no room",
 * and what each allocator answer does, checked through a recording outbox.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../../src/protocol/job.js';
import type { AllocatorToMaster } from '../../../src/protocol/master-allocator.js';
import type { MasterCore } from '../../../src/master/core.js';
import { PassPlan, passWanted, settleDependants, slotRequest } from '../../../src/master/dispatch-plan.js';
import { DepMemo } from '../../../src/master/queue-gates.js';
import * as life from '../../../src/master/lifecycle.js';
import { submitGroup, update } from '../../../src/master/state.js';
import { spec } from './fixtures.js';
import { Outbox, add, allocError, granted, kinds, makeCore, refused } from './outbox.js';

/** One whole pass with an allocator that answers `answer` at once; the IDs asked for, in order. */
function pass(
  core: MasterCore,
  answer: (job: Job) => AllocatorToMaster,
  out = new Outbox(),
): { asked: number[]; plan: PassPlan; out: Outbox } {
  const deps = settleDependants(core.state, 1000);
  out.push(deps.effects);
  const plan = new PassPlan(core.state, deps.deps, core.refusals);
  const asked: number[] = [];
  for (let job = plan.next(); job !== null; job = plan.next()) {
    asked.push(job.id);
    out.push(plan.answer(job, answer(job), false, 1000));
  }
  return { asked, plan, out };
}

const grantAll = (job: Job) => granted(job.id);

test('no pass while paused, stopping, or with nothing queued', () => {
  const core = makeCore();
  assert.equal(passWanted(core.state, false), false);
  add(core);
  assert.equal(passWanted(core.state, false), true);
  assert.equal(passWanted(core.state, true), false);
  core.state.paused = true;
  assert.equal(passWanted(core.state, false), false);
});

test('a grant starts the job, committed as running before it is launched', () => {
  const core = makeCore();
  add(core, { cores: 2, memGB: 3, attrs: 'gpu' });
  const { plan, out } = pass(core, grantAll);
  assert.deepEqual(kinds(out.effects), ['put']);
  const started = out.of('put')[0]!.job;
  assert.equal(started.state.type, 'running');
  assert.equal(started.state.type === 'running' && started.state.startedAt, 1000);
  assert.deepEqual([...core.state.queue], []);
  assert.deepEqual(kinds(plan.launches()), ['launch']);
  assert.deepEqual(slotRequest('u', started, 7), {
    type: 'request',
    user: 'u',
    jobId: 1,
    demand: { cores: 2, memGB: 3, attrs: 'gpu' },
    queueSize: 7,
  });
});

test('a dependant whose dependency failed can never run: undone with the reason, then another pass', () => {
  const core = makeCore();
  const a = add(core);
  update(core.state, { ...a, state: { type: 'failed', node: 'n1', startedAt: 1, endedAt: 2, outcome: { type: 'exit', code: 1 } } });
  const b = add(core, { afterok: [[1, 1]] });
  const c = add(core, { after: [[1, 1]] });
  const { asked, out } = pass(core, grantAll);
  const undone = out.of('put').find((e) => e.job.id === b.id)!.job;
  assert.equal(undone.state.type, 'undone');
  assert.match(undone.state.type === 'undone' ? (undone.state.reason ?? '') : '', /job 1 ended failed/);
  assert.ok(out.of('log')[0]!.text.includes('will never run'));
  assert.deepEqual(
    out.of('commitSoon').map((e) => kinds(e.afterwards)),
    [['dispatch']],
  );
  assert.deepEqual(asked, [c.id], '--after a failed job may run');
});

test('a dependant still waiting is skipped, and never asked for', () => {
  const core = makeCore();
  add(core);
  add(core, { after: [[1, 1]] });
  add(core);
  const { asked } = pass(core, (j) => refused(j.id, 'no_node'));
  assert.deepEqual(asked, [1, 3]);
});

test('held jobs are skipped', () => {
  const core = makeCore();
  const a = add(core);
  update(core.state, life.hold(a, true));
  add(core);
  assert.deepEqual(pass(core, grantAll).asked, [2]);
});

test('an array capped with %N runs at most N at once, counting those already running', () => {
  const core = makeCore();
  submitGroup(core.state, { ...spec(), group: { id: 1, index: 1, kind: 'array', cap: 2 } }, [1, 1, 1, 1, 1], 0);
  add(core);
  const first = pass(core, grantAll);
  assert.deepEqual(first.asked, [1, 2, 6]);
  const second = pass(core, grantAll);
  assert.deepEqual(second.asked, [], 'two of the array run: the rest are not even read');
});

test('a refused capped job still counts for this pass (the cap only gets stricter)', () => {
  const core = makeCore();
  submitGroup(core.state, { ...spec(), group: { id: 1, index: 1, kind: 'array', cap: 1 } }, [1, 1, 1], 0);
  const { asked } = pass(core, (j) => refused(j.id, 'no_node'));
  assert.deepEqual(asked, [1]);
});

test('after "no room" for N cores, no job of N cores or more is asked for; smaller ones are', () => {
  const core = makeCore();
  add(core, { cores: 4 });
  add(core, { cores: 8 });
  add(core, { cores: 4 });
  add(core, { cores: 2 });
  const { asked } = pass(core, (j) => (j.spec.cores >= 4 ? refused(j.id, 'no_room') : granted(j.id)));
  assert.deepEqual(asked, [1, 4]);
  assert.equal(core.refusals.get(1), 'no_room');
});

test('"no room" for one core ends the asking; "no node" does not', () => {
  const core = makeCore();
  for (let i = 0; i < 3; i++) add(core);
  assert.deepEqual(pass(core, (j) => refused(j.id, 'no_room')).asked, [1]);
  core.refusals.clear();
  assert.deepEqual(pass(core, (j) => refused(j.id, 'no_node')).asked, [1, 2, 3]);
  assert.equal(core.refusals.get(3), 'no_node');
});

test('qpy-multiuser away or refusing this user: the pass stops, later grants go back', () => {
  for (const [code, refusal, logged] of [
    ['ALLOCATOR_UNREACHABLE', 'unreachable', false],
    ['NOT_ALLOWED', 'not_allowed', false],
    ['UNAUTHENTICATED', 'not_allowed', false],
    ['INTERNAL', undefined, true],
  ] as const) {
    const core = makeCore();
    for (let i = 0; i < 3; i++) add(core);
    const plan = new PassPlan(core.state, new DepMemo(core.state.jobs), core.refusals);
    const [a, b, c] = [plan.next()!, plan.next()!, plan.next()!];
    const out = new Outbox();
    out.push(plan.answer(a, allocError(code), false, 5));
    assert.equal(plan.next(), null, code);
    out.push(plan.answer(b, granted(b.id), false, 5));
    out.push(plan.answer(c, refused(c.id, 'no_node'), false, 5));
    assert.equal(core.refusals.get(a.id), refusal);
    assert.deepEqual(
      out.of('release').map((e) => e.jobId),
      [b.id],
    );
    assert.equal(out.of('log').length, logged ? 1 : 0, code);
    assert.equal(plan.granted.length, 0);
  }
});

test('a grant for a job killed while it was asked for goes straight back', () => {
  const core = makeCore();
  const a = add(core);
  const plan = new PassPlan(core.state, new DepMemo(core.state.jobs), core.refusals);
  const job = plan.next()!;
  update(core.state, life.unqueue(a, 3));
  assert.deepEqual(plan.answer(job, granted(job.id), false, 5), [{ type: 'release', jobId: a.id }]);
  assert.equal(plan.granted.length, 0);
});

test('a grant while stopping or paused is given back, and the pass ends', () => {
  const core = makeCore();
  add(core);
  add(core);
  const plan = new PassPlan(core.state, new DepMemo(core.state.jobs), core.refusals);
  const job = plan.next()!;
  assert.deepEqual(plan.answer(job, granted(job.id), true, 5), [{ type: 'release', jobId: job.id }]);
  assert.equal(plan.next(), null);
  assert.equal(core.state.jobs.get(job.id)!.state.type, 'queue');
});

test('a refusal is forgotten once the job starts', () => {
  const core = makeCore();
  add(core);
  pass(core, (j) => refused(j.id, 'no_node'));
  assert.equal(core.refusals.get(1), 'no_node');
  pass(core, grantAll);
  assert.equal(core.refusals.has(1), false);
});

test('a failed commit: started jobs back at the head of the queue in order, slots released', () => {
  const core = makeCore();
  for (let i = 0; i < 3; i++) add(core);
  const { plan } = pass(core, (j) => (j.id === 3 ? refused(j.id, 'no_node') : granted(j.id)));
  assert.deepEqual([...core.state.queue], [3]);
  const effects = plan.commitFailed();
  assert.deepEqual([...core.state.queue], [1, 2, 3]);
  assert.deepEqual(
    effects.map((e) => (e.type === 'release' ? e.jobId : null)),
    [2, 1],
  );
});
