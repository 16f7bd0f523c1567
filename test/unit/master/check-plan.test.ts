/** Tests for planCheck (src/master/check-plan.ts): what a check lists, when arrays and loads are summed up, and queue order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCheck } from '../../../src/master/check-plan.js';
import type { Job } from '../../../src/protocol/job.js';
import { job, sel } from './fixtures.js';

const member = (id: number, g: number, index: number, status: 'queue' | 'done' = 'queue'): Job =>
  job(id, status, { group: { id: g, index, kind: 'array' } });
// 1 done, 2-6 an array (2 done), 7 queued, 8-9 a load.
const JOBS = [
  job(1, 'done'),
  member(2, 2, 1, 'done'),
  member(3, 2, 2),
  member(4, 2, 3),
  member(5, 2, 4),
  member(6, 2, 5),
  job(7, 'queue'),
  member(8, 8, 1),
  member(9, 8, 2),
];
const QUEUE = [3, 4, 5, 6, 7, 8, 9];

test('auto: every job while no more than the limit match', () => {
  const p = planCheck(JOBS, sel(), QUEUE, 'auto', 9, 100);
  assert.deepEqual([p.ids, p.groups, p.matched, p.anyQueued], [[1, 2, 3, 4, 5, 6, 7, 8, 9], null, 9, true]);
});

test('auto: past the limit, arrays and loads summed up and only the other jobs listed', () => {
  const p = planCheck(JOBS, sel(), QUEUE, 'auto', 8, 100);
  assert.deepEqual(p.ids, [1, 7]);
  assert.deepEqual(
    p.groups!.map((g) => [g.id, g.jobs, g.counts]),
    [
      [
        2,
        5,
        [
          ['queue', 4],
          ['done', 1],
        ],
      ],
      [8, 2, [['queue', 2]]],
    ],
  );
  assert.equal(p.matched, 9);
});

test('auto: the limit counts matching jobs only', () => {
  const p = planCheck(JOBS, sel({ statuses: ['done'] }), QUEUE, 'auto', 2, 100);
  assert.deepEqual([p.ids, p.groups, p.matched, p.anyQueued], [[1, 2], null, 2, false]);
});

test('groups: always summed up; jobs: never, however many', () => {
  assert.deepEqual(planCheck(JOBS, sel(), QUEUE, 'groups', 1000, 100).ids, [1, 7]);
  const all = planCheck(JOBS, sel(), QUEUE, 'jobs', 1, 100);
  assert.deepEqual([all.ids.length, all.groups], [9, null]);
});

test('queued jobs take their places in queue order (priorities, ctrlQueue jump)', () => {
  const jumped = [9, 3, 4, 5, 6, 7, 8];
  assert.deepEqual(planCheck(JOBS, sel(), jumped, 'jobs', 1000, 100).ids, [1, 2, 9, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(planCheck(JOBS, sel(), jumped, 'groups', 1000, 100).ids, [1, 7], 'the members summed up leave the order alone');
  assert.deepEqual(planCheck(JOBS, sel({ ranges: [[7, 9]] }), jumped, 'jobs', 1000, 100).ids, [9, 7, 8]);
});
