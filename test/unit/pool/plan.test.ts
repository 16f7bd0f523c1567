/**
 * The pool's decisions at each tick (src/pool/plan.ts), rule by rule: how
 * many pilots to submit, when a pilot's node joins, when it ends (idle,
 * near its limit, no longer wanted), the time bound its node gets, and what
 * a pilot found gone does to its node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goneEffects, planTick, type PoolEffect } from '../../../src/pool/plan.js';
import { joined, pending, poolRun, running, uses } from './fixtures.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const of = <T extends PoolEffect['type']>(effects: PoolEffect[], type: T) =>
  effects.filter((e): e is Extract<PoolEffect, { type: T }> => e.type === type);
const submitted = (effects: PoolEffect[]) => of(effects, 'submit').reduce((n, e) => n + e.count, 0);

test('submit: one pilot per pool cores of queued jobs, up to nodes=', () => {
  assert.deepEqual(planTick(poolRun(), uses(), 1, 0), [{ type: 'submit', count: 1 }]);
  assert.equal(submitted(planTick(poolRun(), uses(), 4, 0)), 1);
  assert.equal(submitted(planTick(poolRun(), uses(), 5, 0)), 2);
  assert.equal(submitted(planTick(poolRun(), uses(), 9, 0)), 3);
  assert.equal(submitted(planTick(poolRun(), uses(), 1000, 0)), 3, 'never beyond nodes=3');
  assert.equal(submitted(planTick(poolRun({ maxNodes: 1 }), uses(), 1000, 0)), 1);
});

test('submit: nothing while no job waits', () => {
  assert.deepEqual(planTick(poolRun(), uses(), 0, 0), []);
});

test("submit: a pending pilot's cores count as coming", () => {
  assert.equal(submitted(planTick(poolRun({}, [pending('1')]), uses(), 4, 0)), 0);
  assert.equal(submitted(planTick(poolRun({}, [pending('1')]), uses(), 5, 0)), 1);
  // started in Slurm but not joined yet (reach=agent, its agent not connected): still coming
  assert.equal(submitted(planTick(poolRun({ reach: 'agent' }, [running('1')]), uses(), 4, 0)), 0);
});

test("submit: joined pilots' free cores count, except a pilot's near its end", () => {
  const far = () => poolRun({}, [joined('1', 2 * HOUR, null)]);
  assert.equal(submitted(planTick(far(), uses({ 'p-1': { slots: 1, freeCores: 3 } }), 3, 0)), 0);
  assert.equal(submitted(planTick(far(), uses({ 'p-1': { slots: 1, freeCores: 3 } }), 4, 0)), 1);
  const near = poolRun({}, [joined('1', 5 * MIN, null)]);
  assert.equal(submitted(planTick(near, uses({ 'p-1': { slots: 1, freeCores: 3 } }), 3, 0)), 1);
});

test('submit: sbatch calls under way count as pilots coming and take room', () => {
  const run = poolRun();
  run.submitting = 1;
  assert.equal(submitted(planTick(run, uses(), 4, 0)), 0, 'the pilot being submitted covers 4 queued jobs');
  assert.equal(submitted(planTick(run, uses(), 5, 0)), 1);
  run.submitting = 2;
  assert.equal(submitted(planTick(run, uses(), 1000, 0)), 1, 'room: 3 - 2 being submitted');
  run.submitting = 3;
  assert.equal(submitted(planTick(run, uses(), 1000, 0)), 0);
  const full = poolRun({}, [pending('1'), joined('2', 2 * HOUR, null)]);
  full.submitting = 1;
  assert.equal(submitted(planTick(full, uses({ 'p-2': { slots: 1, freeCores: 0 } }), 1000, 0)), 0);
});

test('submit: none before retryAt (after a failed sbatch), then again', () => {
  const run = poolRun();
  run.retryAt = 5000;
  assert.deepEqual(planTick(run, uses(), 3, 4999), []);
  assert.deepEqual(planTick(run, uses(), 3, 5000), [{ type: 'submit', count: 1 }]);
});

test('join, reach=ssh: once Slurm runs the pilot and names its host', () => {
  const run = poolRun({}, [pending('1'), { ...pending('2'), slurmState: 'CONFIGURING', host: 'h2', reason: null }]);
  run.pilots.set('3', running('3', 'node-a'));
  run.pilots.set('4', { ...running('4'), host: null });
  const effects = planTick(run, uses(), 0, 100);
  assert.deepEqual(of(effects, 'join'), [{ type: 'join', node: 'p-3', jobId: '3', host: 'node-a', cores: 4, memGB: 8 }]);
  const p = run.pilots.get('3')!;
  assert.equal(p.node, 'p-3');
  assert.equal(p.idleSince, 100);
  assert.equal(p.endsAt, 100 + HOUR, 'time left unknown: the whole limit');
  // a connected agent does not matter for reach=ssh
  const agentOnly = poolRun({}, [{ ...pending('5'), connected: true, host: 'h5' }]);
  assert.deepEqual(of(planTick(agentOnly, uses(), 1, 0), 'join'), []);
});

test('join: a known end (from squeue) is kept; a pilot joins only once', () => {
  const run = poolRun({}, [running('1', 'h1', 40 * MIN)]);
  assert.equal(of(planTick(run, uses(), 1, 0), 'join').length, 1);
  assert.equal(run.pilots.get('1')!.endsAt, 40 * MIN);
  assert.equal(of(planTick(run, uses(), 1, 1000), 'join').length, 0);
});

test('join, reach=agent: once its agent is connected, not when Slurm says it runs', () => {
  const run = poolRun({ reach: 'agent' }, [running('1', 'h1')]);
  assert.deepEqual(of(planTick(run, uses(), 1, 0), 'join'), []);
  run.pilots.get('1')!.connected = true;
  assert.deepEqual(of(planTick(run, uses(), 1, 0), 'join'), [{ type: 'join', node: 'p-1', jobId: '1', host: 'h1', cores: 4, memGB: 8 }]);
});

test('a pilot qpy is ending never joins', () => {
  const run = poolRun({}, [{ ...running('1'), ending: 'surplus' }]);
  const agent = poolRun({ reach: 'agent' }, [{ ...running('1'), connected: true, ending: 'surplus' }]);
  assert.deepEqual(planTick(run, uses(), 0, 0), []);
  assert.deepEqual(planTick(agent, uses(), 0, 0), []);
});

test('idle: a joined pilot ends after idle= minutes with no job, not before', () => {
  const run = poolRun({}, [joined('1', 2 * HOUR, 0)]);
  const before = planTick(run, uses(), 0, 10 * MIN - 1);
  assert.deepEqual(before, [{ type: 'jobTime', node: 'p-1', maxS: Math.floor((2 * HOUR - 10 * MIN + 1 - 30_000) / 1000), untimed: true }]);
  assert.equal(run.pilots.get('1')!.ending, null);
  assert.deepEqual(planTick(run, uses(), 0, 10 * MIN), [
    { type: 'leave', node: 'p-1', jobId: '1', failed: false, why: 'idle for 10 min' },
    { type: 'cancel', jobIds: ['1'] },
  ]);
  assert.equal(run.pilots.get('1')!.ending, 'idle');
});

test('idle under waiting jobs: no pilot replaces it until the number of waiting jobs changes', () => {
  // 2 jobs wait that the pilot cannot take (say, too big for it): it idles away.
  const run = poolRun({}, [joined('1', 2 * HOUR, 0)]);
  const ended = planTick(run, uses({ 'p-1': { slots: 0, freeCores: 0 } }), 2, 10 * MIN);
  assert.equal(run.pilots.get('1')!.ending, 'idle');
  assert.equal(submitted(ended), 0);
  run.pilots.delete('1');
  assert.equal(submitted(planTick(run, uses(), 2, 11 * MIN)), 0, 'the same 2 jobs wait: no new pilot');
  assert.equal(submitted(planTick(run, uses(), 3, 12 * MIN)), 1, 'a new job: pilots again');
  assert.equal(run.idledAt, null);
});

test('idle: a fraction of a minute works', () => {
  const run = poolRun({ idleMin: 0.5 }, [joined('1', 2 * HOUR, 0)]);
  assert.equal(of(planTick(run, uses(), 0, 29_999), 'leave').length, 0);
  assert.equal(of(planTick(run, uses(), 0, 30_000), 'leave').length, 1);
});

test('idle: counted from the end of its last job; a busy pilot never ends as idle', () => {
  const run = poolRun({}, [joined('1', 5 * HOUR, 0)]);
  const busy = uses({ 'p-1': { slots: 1, freeCores: 3 } });
  planTick(run, busy, 0, 5 * MIN);
  assert.equal(run.pilots.get('1')!.idleSince, null);
  assert.equal(of(planTick(run, busy, 0, 30 * MIN), 'leave').length, 0);
  planTick(run, uses(), 0, 31 * MIN);
  assert.equal(run.pilots.get('1')!.idleSince, 31 * MIN);
  assert.equal(of(planTick(run, uses(), 0, 41 * MIN - 1), 'leave').length, 0);
  assert.equal(of(planTick(run, uses(), 0, 41 * MIN), 'leave').length, 1);
});

test('idle=0: a pilot that joins is not ended in the same tick, before it could take a job', () => {
  const run = poolRun({ idleMin: 0 }, [running('1')]);
  const first = planTick(run, uses(), 1, 0);
  assert.deepEqual(
    first.map((e) => e.type),
    ['join', 'jobTime'],
  );
  assert.equal(run.pilots.get('1')!.ending, null);
  assert.equal(submitted(first), 0, 'its cores cover the job');
  assert.deepEqual(
    planTick(run, uses(), 1, 1000).map((e) => e.type),
    ['leave', 'cancel'],
    'still idle a tick later: it ends (and, since the job did not take it, no pilot replaces it)',
  );
});

test('near its end: an empty pilot ends; a busy one takes only jobs that end in time', () => {
  const run = poolRun({}, [joined('1', 6 * MIN - 1, null)]);
  assert.deepEqual(planTick(run, uses(), 5, 0), [
    { type: 'leave', node: 'p-1', jobId: '1', failed: false, why: 'near its time limit' },
    { type: 'submit', count: 2 },
    { type: 'cancel', jobIds: ['1'] },
  ]);
  assert.equal(run.pilots.get('1')!.ending, 'time');
  const busy = poolRun({}, [joined('2', 5 * MIN, null)]);
  assert.deepEqual(planTick(busy, uses({ 'p-2': { slots: 2, freeCores: 2 } }), 0, 0), [
    { type: 'jobTime', node: 'p-2', maxS: 270, untimed: false },
  ]);
});

test('jobTime: maxS is the time left less the margin, untimed while not near the end', () => {
  const run = poolRun({}, [joined('1', HOUR, null)]);
  const u = uses({ 'p-1': { slots: 1, freeCores: 0 } });
  assert.deepEqual(planTick(run, u, 0, 0), [{ type: 'jobTime', node: 'p-1', maxS: 3570, untimed: true }]);
  assert.deepEqual(planTick(run, u, 0, 1500), [{ type: 'jobTime', node: 'p-1', maxS: 3568, untimed: true }], 'rounded down');
  assert.deepEqual(planTick(run, u, 0, HOUR - 6 * MIN), [{ type: 'jobTime', node: 'p-1', maxS: 330, untimed: true }]);
  assert.deepEqual(planTick(run, u, 0, HOUR - 6 * MIN + 1), [{ type: 'jobTime', node: 'p-1', maxS: 329, untimed: false }]);
  assert.deepEqual(planTick(run, u, 0, HOUR - 10_000), [{ type: 'jobTime', node: 'p-1', maxS: 0, untimed: false }]);
  assert.deepEqual(planTick(run, u, 0, HOUR + 60_000), [{ type: 'jobTime', node: 'p-1', maxS: 0, untimed: false }], 'past its end');
});

test('jobTime: a short pool nears its end in its last tenth, with a margin of a twentieth', () => {
  const run = poolRun({ timeLimitS: 600 }, [joined('1', 600_000, null)]);
  const u = uses({ 'p-1': { slots: 1, freeCores: 0 } });
  assert.deepEqual(planTick(run, u, 0, 0), [{ type: 'jobTime', node: 'p-1', maxS: 570, untimed: true }]);
  assert.deepEqual(planTick(run, u, 0, 540_001), [{ type: 'jobTime', node: 'p-1', maxS: 29, untimed: false }]);
});

test('surplus: with no job waiting, pilots not joined are cancelled (newest first); joined ones never', () => {
  const run = poolRun({ maxNodes: 5 }, [pending('1'), running('2', 'h2'), joined('3', 2 * HOUR, null)]);
  run.config.reach = 'agent'; // pilot 2 runs but its agent has not connected
  run.pilots.set('4', pending('4'));
  const effects = planTick(run, uses({ 'p-3': { slots: 1, freeCores: 3 } }), 0, 0);
  assert.deepEqual(effects, [
    { type: 'jobTime', node: 'p-3', maxS: 7170, untimed: true },
    { type: 'cancel', jobIds: ['4', '2', '1'] },
  ]);
  for (const id of ['1', '2', '4']) assert.equal(run.pilots.get(id)!.ending, 'surplus');
  assert.equal(run.pilots.get('3')!.ending, null);
  const idle = poolRun({}, [joined('5', 2 * HOUR, 0)]);
  assert.deepEqual(of(planTick(idle, uses(), 0, MIN), 'cancel'), [], 'an idle joined pilot waits for idle=');
});

test('surplus: a pilot that joins in this tick is not surplus', () => {
  const run = poolRun({}, [running('1')]);
  assert.deepEqual(
    planTick(run, uses(), 0, 0).map((e) => e.type),
    ['join', 'jobTime'],
  );
});

test('a pilot being ended is never counted, cancelled or left again', () => {
  const run = poolRun({ maxNodes: 1 }, [{ ...joined('1', 2 * HOUR, 0), ending: 'idle' }]);
  assert.deepEqual(planTick(run, uses(), 1, 20 * MIN), [{ type: 'submit', count: 1 }], 'it leaves room for a new one');
  assert.deepEqual(planTick(run, uses(), 0, 20 * MIN), []);
  const ended = poolRun({}, [pending('2')]);
  planTick(ended, uses(), 0, 0);
  assert.deepEqual(planTick(ended, uses(), 0, 1000), []);
  assert.deepEqual(planTick(ended, uses(), 4, 1000), [{ type: 'submit', count: 1 }]);
});

test('a joined node the allocator no longer knows counts as empty', () => {
  const run = poolRun({}, [joined('1', 2 * HOUR, 0)]);
  assert.equal(
    of(
      planTick(run, () => null, 0, 10 * MIN),
      'leave',
    ).length,
    1,
  );
});

test('effects come in order: joins and time bounds, then the submit, then one cancel', () => {
  // Pilot 1 is empty near its end: it leaves (an idle end under waiting jobs would hold submissions back).
  const run = poolRun({ maxNodes: 4 }, [joined('1', 15 * MIN, null), running('2'), joined('3', 2 * HOUR, null)]);
  const effects = planTick(run, uses({ 'p-3': { slots: 1, freeCores: 0 } }), 9, 10 * MIN);
  assert.deepEqual(
    effects.map((e) => e.type),
    ['leave', 'join', 'jobTime', 'jobTime', 'submit', 'cancel'],
  );
  assert.deepEqual(of(effects, 'submit'), [{ type: 'submit', count: 2 }]);
});

test('gone: a joined pilot qpy did not end leaves as failed; one qpy ended, or never joined, gives nothing', () => {
  const died = joined('1', HOUR, null);
  const endedByQpy = { ...joined('2', HOUR, 0), ending: 'idle' as const };
  const neverJoined = pending('3');
  const cancelledPending = { ...pending('4'), ending: 'surplus' as const };
  assert.deepEqual(goneEffects([died, endedByQpy, neverJoined, cancelledPending]), [
    { type: 'leave', node: 'p-1', jobId: '1', failed: true, why: 'its Slurm job 1 ended' },
  ]);
  assert.deepEqual(goneEffects([]), []);
});

test('submit: a pilot joining in this tick counts its cores as free (the allocator does not have its node yet)', () => {
  const run = poolRun({}, [running('1')]);
  const effects = planTick(run, () => null, 1, 0);
  assert.deepEqual(
    effects.map((e) => e.type),
    ['join', 'jobTime'],
  );
  assert.equal(submitted(effects), 0);
});
