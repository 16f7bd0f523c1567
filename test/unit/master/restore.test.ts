/**
 * Tests for restoreState (src/master/state.ts): rebuilding the master's
 * state from stored rows, with its repairs — an ID counter below the largest
 * ID (or unreadable), a stored queue order naming unknown, non-queued or
 * repeated IDs, queued jobs missing from the order, a job stored twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restoreState, submit } from '../../../src/master/state.js';
import type { Job } from '../../../src/protocol/job.js';
import { job, spec } from './fixtures.js';

test('a consistent store is restored as is', () => {
  const jobs = [job(1, 'done'), job(2, 'running'), job(3, 'queue'), job(4, 'queue'), job(5, 'killing')];
  const s = restoreState(jobs, [4, 3], 6, true);
  assert.deepEqual([...s.jobs.keys()], [1, 2, 3, 4, 5]);
  assert.equal(s.jobs.get(2), jobs[1], 'the stored objects are kept');
  assert.deepEqual([...s.queue], [4, 3], 'the stored order wins over ID order');
  assert.equal(s.nextId, 6);
  assert.equal(s.paused, true);
});

test('an empty store gives a fresh state', () => {
  const s = restoreState([], [], 1, false);
  assert.equal(s.jobs.size, 0);
  assert.deepEqual([...s.queue], []);
  assert.equal(s.nextId, 1);
  assert.equal(s.paused, false);
});

test('nextId below the largest ID is raised to max + 1', () => {
  assert.equal(restoreState([job(3, 'done'), job(10, 'queue'), job(7, 'failed')], [10], 4, false).nextId, 11);
  assert.equal(restoreState([job(5, 'done')], [], 5, false).nextId, 6, 'equal to the max is still too low');
  assert.equal(restoreState([job(5, 'done')], [], 1, false).nextId, 6);
});

test('nextId above the largest ID is kept (cleaned jobs keep their IDs used)', () => {
  assert.equal(restoreState([job(2, 'done')], [], 50, false).nextId, 50);
  assert.equal(restoreState([], [], 50, false).nextId, 50);
});

test('nextId is at least 1', () => {
  assert.equal(restoreState([], [], 0, false).nextId, 1);
  assert.equal(restoreState([], [], -7, false).nextId, 1);
});

test('an unreadable nextId (NaN, fraction, infinity) falls back to max + 1', () => {
  for (const bad of [NaN, 2.5, Infinity, -Infinity]) {
    const s = restoreState([job(4, 'done')], [], bad, false);
    assert.equal(s.nextId, 5, `nextId ${bad}`);
    assert.equal(restoreState([], [], bad, false).nextId, 1, `nextId ${bad}, no jobs`);
  }
  const s = restoreState([job(4, 'queue')], [4], NaN, false);
  assert.equal(submit(s, spec(), 0).id, 5, 'new IDs stay whole numbers');
});

test('queue entries naming non-queued jobs are dropped', () => {
  const jobs = [job(1, 'running'), job(2, 'queue'), job(3, 'done'), job(4, 'undone'), job(5, 'killing')];
  assert.deepEqual([...restoreState(jobs, [1, 3, 2, 4, 5], 6, false).queue], [2]);
});

test('queue entries naming unknown jobs are dropped', () => {
  assert.deepEqual([...restoreState([job(2, 'queue')], [9, 2, 1], 3, false).queue], [2]);
});

test('duplicate queue entries are kept once, at their first place', () => {
  const jobs = [job(1, 'queue'), job(2, 'queue'), job(3, 'queue')];
  assert.deepEqual([...restoreState(jobs, [2, 1, 2, 3, 1], 4, false).queue], [2, 1, 3]);
});

test('queued jobs missing from the order are appended, in ID order', () => {
  const jobs = [job(1, 'queue'), job(2, 'queue'), job(3, 'running'), job(4, 'queue'), job(5, 'queue')];
  assert.deepEqual([...restoreState(jobs, [4, 2], 6, false).queue], [4, 2, 1, 5]);
  assert.deepEqual([...restoreState(jobs, [], 6, false).queue], [1, 2, 4, 5]);
});

test('all repairs at once: every queued job exactly once, nothing else', () => {
  const jobs = [job(8, 'queue'), job(2, 'done'), job(5, 'queue'), job(6, 'running'), job(1, 'queue')];
  const s = restoreState(jobs, [6, 5, 99, 5, 2], 3, false);
  assert.deepEqual([...s.queue], [5, 1, 8]);
  assert.equal(s.nextId, 9);
  for (const id of s.queue) assert.equal(s.jobs.get(id)?.state.type, 'queue');
  assert.equal(new Set(s.queue).size, s.queue.length);
});

test('a job stored twice: the last copy wins and the queue matches it', () => {
  const queuedThenRunning: Job[] = [job(1, 'queue'), job(1, 'running'), job(2, 'queue')];
  const a = restoreState(queuedThenRunning, [], 3, false);
  assert.equal(a.jobs.get(1)?.state.type, 'running');
  assert.deepEqual([...a.queue], [2], 'a running job is not queued');

  const twiceQueued: Job[] = [job(1, 'queue'), job(2, 'queue'), job(1, 'queue')];
  assert.deepEqual([...restoreState(twiceQueued, [], 3, false).queue], [1, 2], 'no duplicate queue entry');
});

test('the inputs are not modified', () => {
  const jobs = [job(1, 'queue'), job(2, 'queue')];
  const queue = [2, 2, 7];
  const snapshot = structuredClone({ jobs, queue });
  const s = restoreState(jobs, queue, 1, false);
  assert.deepEqual({ jobs, queue }, snapshot);
  assert.notEqual(s.queue, queue);
});
