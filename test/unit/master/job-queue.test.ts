/**
 * Tests for src/master/job-queue.ts: the queue as runs of consecutive IDs
 * behaves as a plain array of IDs would (a seeded random sequence of every
 * operation, checked against one), keeps an array or a load as one run,
 * and its walk sees the queue as it was, skipping on request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobQueue } from '../../../src/master/job-queue.js';
import { Rng } from '../../helpers/prng.js';

test('runs: a pushed range, jobs pushed one by one, a head start, a middle removal', () => {
  const q = new JobQueue();
  q.pushRun(1, 1_000_000);
  for (let id = 1_000_001; id <= 1_000_010; id++) q.push(id);
  assert.equal(q.length, 1_000_010);
  assert.equal(q.runCount, 1);
  assert.ok(q.remove(1));
  assert.ok(q.remove(2));
  assert.equal(q.runCount, 1, 'the head job leaving keeps one run');
  assert.ok(q.remove(500));
  assert.equal(q.runCount, 2);
  assert.equal(q.remove(500), false);
  assert.equal(q.indexOf(3), 0);
  assert.equal(q.indexOf(501), 497);
  assert.equal(q.indexOf(500), -1);
  assert.equal(q.length, 1_000_007);
});

test('unshift and insertRun place jobs at the head and at a position', () => {
  const q = new JobQueue([5, 6, 7]);
  q.unshift(4);
  assert.deepEqual([...q], [4, 5, 6, 7]);
  assert.equal(q.runCount, 1);
  q.unshift(9);
  q.insertRun(2, 20, 22);
  assert.deepEqual([...q], [9, 4, 20, 21, 22, 5, 6, 7]);
  q.insertRun(0, 1, 1);
  q.insertRun(q.length, 30, 31);
  assert.deepEqual([...q], [1, 9, 4, 20, 21, 22, 5, 6, 7, 30, 31]);
  assert.deepEqual([...q.fromTail()], [31, 30, 7, 6, 5, 22, 21, 20, 4, 9, 1]);
});

test('a walk sees the queue as it began, and skips the rest of a run on request', () => {
  const q = new JobQueue();
  q.pushRun(1, 10);
  q.pushRun(20, 25);
  const walk = q.walk();
  const seen: number[] = [];
  for (const id of walk) {
    seen.push(id);
    if (id === 2) {
      q.remove(1);
      q.remove(5);
      q.push(99);
    }
    if (id === 3) walk.skipThrough(8);
    if (id === 20) walk.skipThrough(1000);
  }
  assert.deepEqual(seen, [1, 2, 3, 9, 10, 20]);
  assert.deepEqual([...q], [2, 3, 4, 6, 7, 8, 9, 10, 20, 21, 22, 23, 24, 25, 99]);
});

test('a random sequence of operations gives what a plain array would', () => {
  const rng = new Rng(14);
  const q = new JobQueue();
  let model: number[] = [];
  let nextId = 1;
  const notQueued: number[] = [];
  const int = (n: number) => Math.floor(rng.next() * n);
  for (let step = 0; step < 5000; step++) {
    const op = int(9);
    if (op === 0) {
      const n = 1 + int(20);
      q.pushRun(nextId, nextId + n - 1);
      for (let i = 0; i < n; i++) model.push(nextId++);
    } else if (op === 1 || op === 2) {
      // Mostly near the head, as dispatch does.
      const i = model.length === 0 ? 0 : op === 1 ? int(Math.min(3, model.length)) : int(model.length);
      const id = model[i] ?? nextId + 5;
      assert.equal(q.remove(id), model.includes(id));
      if (model.includes(id)) {
        model.splice(i, 1);
        notQueued.push(id);
      }
    } else if (op === 3 && notQueued.length > 0) {
      const id = notQueued.splice(int(notQueued.length), 1)[0]!;
      q.unshift(id);
      model.unshift(id);
    } else if (op === 4 && notQueued.length > 0) {
      const id = notQueued.splice(int(notQueued.length), 1)[0]!;
      q.push(id);
      model.push(id);
    } else if (op === 5) {
      const at = int(model.length + 1);
      const n = 1 + int(5);
      q.insertRun(at, nextId, nextId + n - 1);
      model.splice(at, 0, ...Array.from({ length: n }, (_, i) => nextId + i));
      nextId += n;
    } else if (op === 6 && rng.next() < 0.1) {
      const m = 2 + int(5);
      const gone = q.removeWhere((id) => id % m === 0);
      assert.equal(gone, model.filter((id) => id % m === 0).length);
      for (const id of model) if (id % m === 0) notQueued.push(id);
      model = model.filter((id) => id % m !== 0);
    } else if (op === 7) {
      const id = model[int(model.length)] ?? 0;
      assert.equal(q.indexOf(id), model.indexOf(id));
    } else if (op === 8 && rng.next() < 0.05) {
      assert.deepEqual(
        q.filter((id) => id % 2 === 0).toArray(),
        model.filter((id) => id % 2 === 0),
      );
    }
    assert.equal(q.length, model.length, `step ${step}`);
    if (step % 50 === 0) assert.deepEqual([...q], model, `step ${step}`);
  }
  assert.deepEqual([...q], model);
});
