/**
 * Tests for src/master/state.ts (apart from restoreState, see
 * restore.test.ts): submission and ID allocation, the queue kept in step with
 * job statuses by update() (order kept through start, unqueue and requeue to
 * the front or back), remove() never freeing IDs, queuePositions, running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as life from '../../../src/master/lifecycle.js';
import { emptyState, queuePositions, remove, running, submit, update, updateAll, type MasterState } from '../../../src/master/state.js';
import { QpyError } from '../../../src/errors.js';
import { EXIT0, ids, job, spec } from './fixtures.js';

/** A state with `n` submitted jobs (IDs 1..n). */
function withJobs(n: number): MasterState {
  const state = emptyState();
  for (let i = 0; i < n; i++) submit(state, spec({ command: `job ${i + 1}` }), 1000 + i);
  return state;
}

function get(state: MasterState, id: number) {
  const j = state.jobs.get(id);
  assert.ok(j, `job ${id} exists`);
  return j;
}

test('emptyState: no jobs, empty queue, IDs from 1, not paused', () => {
  const s = emptyState();
  assert.equal(s.jobs.size, 0);
  assert.deepEqual([...s.queue], []);
  assert.equal(s.nextId, 1);
  assert.equal(s.paused, false);
  assert.notEqual(emptyState().queue, s.queue, 'each call gives fresh containers');
});

test('submit: consecutive IDs, queued at the tail, spec and time kept', () => {
  const state = emptyState();
  const a = submit(state, spec({ command: 'a' }), 5);
  const b = submit(state, spec({ command: 'b' }), 6);
  assert.equal(a.id, 1);
  assert.equal(b.id, 2);
  assert.deepEqual(a, { id: 1, spec: spec({ command: 'a' }), queuedAt: 5, state: { type: 'queue' } });
  assert.deepEqual([...state.queue], [1, 2]);
  assert.deepEqual([...state.jobs.keys()], [1, 2]);
  assert.equal(state.nextId, 3);
  assert.equal(get(state, 2), b, 'the stored job is the one returned');
});

test('update: start removes the job from the queue, keeping the others in order', () => {
  const state = withJobs(5);
  const started = update(state, life.start(get(state, 3), 'n', 2000));
  assert.equal(started.state.type, 'running');
  assert.equal(get(state, 3), started);
  assert.deepEqual([...state.queue], [1, 2, 4, 5]);
  update(state, life.start(get(state, 1), 'n', 2000));
  update(state, life.start(get(state, 5), 'n', 2000));
  assert.deepEqual([...state.queue], [2, 4]);
});

test('update: unqueue removes the job from the queue; order of the rest kept', () => {
  const state = withJobs(4);
  update(state, life.unqueue(get(state, 2), 3000));
  assert.deepEqual([...state.queue], [1, 3, 4]);
  assert.equal(get(state, 2).state.type, 'undone');
  assert.ok(state.jobs.has(2), 'an undone job stays listed until cleaned');
});

test('update: requeue with front=true puts the job at the head', () => {
  const state = withJobs(4);
  update(state, life.start(get(state, 3), 'n', 2000));
  assert.deepEqual([...state.queue], [1, 2, 4]);
  update(state, life.requeue(get(state, 3)), { front: true });
  assert.deepEqual([...state.queue], [3, 1, 2, 4]);
});

test('update: requeue without front goes to the tail', () => {
  const state = withJobs(3);
  update(state, life.start(get(state, 1), 'n', 2000));
  update(state, life.requeue(get(state, 1)));
  assert.deepEqual([...state.queue], [2, 3, 1]);
  update(state, life.start(get(state, 2), 'n', 2000));
  update(state, life.requeue(get(state, 2)), { front: false });
  assert.deepEqual([...state.queue], [3, 1, 2]);
});

test('update: a change that keeps the status leaves the queue alone', () => {
  const state = withJobs(3);
  const before = [...state.queue];
  update(state, { ...get(state, 2), queuedAt: 99 });
  assert.deepEqual([...state.queue], before, 'queue -> queue: no duplicate, no move');
  update(state, life.start(get(state, 1), 'n', 1));
  update(state, life.launched(get(state, 1), 55));
  update(state, life.requestKill(get(state, 1)), { front: true });
  assert.deepEqual([...state.queue], [2, 3], 'running -> running: front is ignored');
  update(state, life.end(get(state, 1), EXIT0, 2));
  assert.deepEqual([...state.queue], [2, 3], 'running -> killed: nothing to remove');
  assert.equal(get(state, 1).state.type, 'killed');
});

test('update: an unknown job is refused with NOT_FOUND and nothing changes', () => {
  const state = withJobs(2);
  assert.throws(
    () => update(state, job(9, 'running')),
    (err: unknown) => err instanceof QpyError && err.code === 'NOT_FOUND' && /job 9/.test(err.message),
  );
  assert.deepEqual([...state.jobs.keys()], [1, 2]);
  assert.deepEqual([...state.queue], [1, 2]);
});

test('update: keeps Map (submission) order when a job is replaced', () => {
  const state = withJobs(3);
  update(state, life.start(get(state, 1), 'n', 1));
  assert.deepEqual([...state.jobs.keys()], [1, 2, 3]);
});

test('a whole queue drained in order: start, start, unqueue, requeue front', () => {
  const state = withJobs(5);
  update(state, life.start(get(state, 1), 'n', 1));
  update(state, life.start(get(state, 2), 'n', 1));
  update(state, life.unqueue(get(state, 4), 1));
  assert.deepEqual([...state.queue], [3, 5]);
  update(state, life.requeue(get(state, 2)), { front: true });
  update(state, life.requeue(get(state, 1)), { front: true });
  assert.deepEqual([...state.queue], [1, 2, 3, 5]);
});

test('remove: forgets the jobs; IDs are never given again', () => {
  const state = withJobs(3);
  for (const id of [1, 2, 3]) update(state, life.unqueue(get(state, id), 1));
  remove(state, [2, 3]);
  assert.deepEqual([...state.jobs.keys()], [1]);
  assert.equal(submit(state, spec(), 2).id, 4, 'not 2 nor 3');
  remove(state, [1, 4]);
  assert.equal(state.jobs.size, 0);
  assert.equal(submit(state, spec(), 3).id, 5, 'an empty state still does not restart at 1');
});

test('remove: unknown or repeated IDs are ignored', () => {
  const state = withJobs(2);
  update(state, life.unqueue(get(state, 1), 1));
  remove(state, [1, 1, 42]);
  assert.deepEqual([...state.jobs.keys()], [2]);
  assert.equal(state.nextId, 3);
});

test('queuePositions: the index of each queued job, nothing for others', () => {
  const state = withJobs(4);
  update(state, life.start(get(state, 2), 'n', 1));
  update(state, life.requeue(get(state, 2)), { front: true });
  update(state, life.start(get(state, 4), 'n', 1));
  assert.deepEqual(
    [...queuePositions(state)],
    [
      [2, 0],
      [1, 1],
      [3, 2],
    ],
  );
  assert.equal(queuePositions(state).get(4), undefined);
  assert.equal(queuePositions(emptyState()).size, 0);
});

test('running: running jobs in submission order, including those being killed', () => {
  const state = withJobs(5);
  update(state, life.start(get(state, 4), 'n', 1));
  update(state, life.start(get(state, 2), 'n', 1));
  update(state, life.requestKill(get(state, 4)));
  update(state, life.start(get(state, 5), 'n', 1));
  update(state, life.end(get(state, 5), EXIT0, 2));
  update(state, life.unqueue(get(state, 1), 2));
  assert.deepEqual(ids(running(state)), [2, 4]);
  assert.deepEqual(running(emptyState()), []);
});

test('submit with priorities: higher first, ties in submission order; queuePos keeps that order when stored', async () => {
  const { submit, queuePos } = await import('../../../src/master/state.js');
  const st = emptyState();
  const prio = [0, 5, 0, 5, -1, 10, 0];
  const jobs = prio.map((p) => submit(st, spec(p === 0 ? {} : { priority: p }), 1));
  assert.deepEqual([...st.queue], [6, 2, 4, 1, 3, 7, 5]);
  assert.deepEqual(
    [...jobs].sort((a, b) => queuePos(a) - queuePos(b)).map((j) => j.id),
    [6, 2, 4, 1, 3, 7, 5],
  );
});

test('hold keeps a job queued and in its place; release undoes it', () => {
  const st = emptyState();
  const a = submit(st, spec(), 1);
  submit(st, spec(), 1);
  const held = update(st, life.hold(a, true));
  assert.deepEqual(held.state, { type: 'queue', held: true });
  assert.deepEqual([...st.queue], [1, 2]);
  assert.deepEqual(update(st, life.hold(held, false)).state, { type: 'queue' });
});

const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

test('updateAll: many jobs leaving the queue at once, the rest of it in order; few go one by one', () => {
  for (const n of [10, 1000]) {
    const state = withJobs(n);
    const killed = [...state.jobs.values()].filter((j) => j.id % 3 === 0).map((j) => life.unqueue(j, 5));
    const started = life.start(state.jobs.get(1)!, 'n1', 5);
    updateAll(state, [...killed, started]);
    assert.deepEqual(
      [...state.queue],
      upTo(n).filter((id) => id % 3 !== 0 && id !== 1),
      `n=${n}`,
    );
    assert.equal(state.jobs.get(3)!.state.type, 'undone');
    assert.deepEqual([...state.active], [1]);
  }
});
