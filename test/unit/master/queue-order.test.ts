/** Tests for src/master/queue-order.ts: every worked example of §5.9, and every refusal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jumpQueue, type JumpTarget } from '../../../src/master/queue-order.js';

const Q = [6, 7, 8, 9, 10];
const ids = (...xs: number[]): [number, number][] => xs.map((x) => [x, x]);
const jump = (r: [number, number][], t: JumpTarget) => jumpQueue(Q, r, t);

test('§5.9 worked examples, from the queue [6,7,8,9,10]', () => {
  assert.deepEqual(jump(ids(10), 'begin'), { ok: true, queue: [10, 6, 7, 8, 9] });
  assert.deepEqual(jump(ids(8), 'end'), { ok: true, queue: [6, 7, 9, 10, 8] });
  assert.deepEqual(jump(ids(6, 7), 9), { ok: true, queue: [8, 9, 6, 7, 10] });
  assert.deepEqual(jump(ids(8), 6), { ok: true, queue: [6, 8, 7, 9, 10] });
  assert.deepEqual(jump(ids(6), 10), { ok: true, queue: [7, 8, 9, 10, 6] });
});

test('ranges, relative order kept, listed IDs not queued ignored', () => {
  assert.deepEqual(
    jump(
      [
        [8, 10],
        [1, 2],
      ],
      'begin',
    ),
    { ok: true, queue: [8, 9, 10, 6, 7] },
  );
  assert.deepEqual(
    jump(
      [
        [9, 9],
        [7, 7],
        [99, 120],
      ],
      6,
    ),
    { ok: true, queue: [6, 7, 9, 8, 10] },
  );
});

test('refusals leave the queue alone, with the original sentences', () => {
  assert.deepEqual(jump(ids(6, 7), 7), { ok: false, message: 'Position is part of list: queue not reordered.' });
  assert.deepEqual(jump(ids(6), 42), { ok: false, message: 'Position not found: queue not reordered.' });
  assert.deepEqual(jump(ids(1, 2), 'end'), { ok: false, message: 'List does not have jobs in queue: queue not reordered.' });
  assert.deepEqual(jump([[1, 100]], 'begin'), { ok: false, message: 'Queue is completely contained in list: queue not reordered.' });
});
