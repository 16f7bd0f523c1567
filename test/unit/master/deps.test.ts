/** Tests for src/master/deps.ts: ready, waiting and never, for --after and --afterok; unknown IDs; ID lists. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { depState, formatIds, unknownIds, withGroupsExpanded } from '../../../src/master/deps.js';
import { JobTable } from '../../../src/master/job-table.js';
import type { Job } from '../../../src/protocol/job.js';
import { job } from './fixtures.js';

const jobs = (...js: Job[]) => new Map(js.map((j) => [j.id, j]));
const dependent = (over: Partial<Job['spec']>) => ({ ...job(10), spec: { ...job(10).spec, ...over } });

test('--after: waits for jobs not final, whatever way the others ended', () => {
  const all = jobs(job(1, 'done'), job(2, 'failed'), job(3, 'running'), job(4, 'killed'));
  assert.deepEqual(
    depState(
      dependent({
        after: [
          [1, 2],
          [4, 4],
        ],
      }),
      all,
    ),
    { kind: 'ready' },
  );
  assert.deepEqual(depState(dependent({ after: [[1, 3]] }), all), { kind: 'waiting', on: [3] });
  assert.deepEqual(depState(dependent({ after: [[9, 9]] }), all), { kind: 'ready' }, 'a cleaned job counts as ended');
});

test('--afterok: ready when all done, waiting while any runs, never once one ended otherwise (with the reason)', () => {
  const all = jobs(job(1, 'done'), job(2, 'failed'), job(3, 'queue'), job(4, 'undone'), job(5, 'node_failed'));
  assert.deepEqual(depState(dependent({ afterok: [[1, 1]] }), all), { kind: 'ready' });
  assert.deepEqual(
    depState(
      dependent({
        afterok: [
          [1, 1],
          [3, 3],
        ],
      }),
      all,
    ),
    { kind: 'waiting', on: [3] },
  );
  assert.deepEqual(depState(dependent({ afterok: [[1, 2]] }), all), { kind: 'never', reason: 'job 2 ended failed' });
  assert.deepEqual(depState(dependent({ afterok: [[4, 4]] }), all), { kind: 'never', reason: 'job 4 never ran' });
  assert.deepEqual(depState(dependent({ afterok: [[5, 5]] }), all), { kind: 'never', reason: 'job 5 ended node_failed' });
  assert.equal(depState(dependent({ afterok: [[7, 7]] }), all).kind, 'never', 'cleaned before checked');
});

test('unknown IDs and ID lists', () => {
  const all = jobs(job(1), job(2), job(5));
  assert.deepEqual(
    unknownIds(
      [
        [1, 2],
        [4, 9],
      ],
      all,
    ),
    [4, 6, 7, 8, 9],
  );
  assert.deepEqual(unknownIds([[1, 2]], all), []);
  assert.equal(formatIds([7, 3, 5, 6, 3]), '3,5-7');
});

test("an array's or a load's ID names its jobs still there; ranges and other IDs stay as they are", () => {
  const t = new JobTable();
  t.set(job(1, 'done'));
  const base = { ...job(2).spec, group: { id: 2, index: 1, kind: 'array' as const } };
  t.addGroup(2, base, 5, [1, 1, 1, 1, 1]); // jobs 2-6
  t.delete(4);
  t.set(job(7, 'queue'));
  t.addGroup(8, { ...base, group: { id: 8, index: 1, kind: 'load' } }, 5, ['a', 'b']); // jobs 8-9
  t.delete(9);
  assert.deepEqual(
    withGroupsExpanded([[2, 2]], t, 10),
    [
      [2, 3],
      [5, 6],
    ],
    'the array, around a cleaned member',
  );
  assert.deepEqual(
    withGroupsExpanded(
      [
        [8, 8],
        [1, 1],
        [3, 3],
        [2, 3],
      ],
      t,
      10,
    ),
    [
      [8, 8],
      [1, 1],
      [3, 3],
      [2, 3],
    ],
    'a load whose last job was cleaned; a plain job; a member; a range',
  );
  const later = new JobTable();
  later.addGroup(2, base, 5, [1, 1]);
  assert.deepEqual(withGroupsExpanded([[2, 2]], later, 100), [[2, 3]], 'IDs up to the next stay unused');
});
