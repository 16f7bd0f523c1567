/**
 * Tests for src/master/queue-gates.ts and the JobTable reads a dispatch pass
 * skips with: jobs whose dependencies can never be met leave the queue
 * undone, looked for only when depsChanged is set; decisions are shared by
 * the members of an array; runEnd and depsOf read no job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as life from '../../../src/master/lifecycle.js';
import { DepMemo, unqueueNeverRunnable } from '../../../src/master/queue-gates.js';
import { emptyState, remove, submit, submitGroup, update } from '../../../src/master/state.js';
import { spec } from './fixtures.js';

const arrayBase = (id: number, over = {}) => ({ ...spec(over), group: { id, index: 1, kind: 'array' as const } });

test('a failed job: its --afterok dependents leave the queue undone, with the reason, its --after ones stay', () => {
  const s = emptyState();
  const a = submit(s, spec(), 1);
  submit(s, spec({ afterok: [[1, 1]] }), 1);
  submit(s, spec({ after: [[1, 1]] }), 1);
  submitGroup(s, arrayBase(4, { afterok: [[1, 1]] }), [1, 1, 1], 1);
  assert.equal(s.depsChanged, true, 'a dependent was queued');
  assert.deepEqual(unqueueNeverRunnable(s, 5), [], 'job 1 is queued: they wait');
  assert.equal(s.depsChanged, false);
  assert.deepEqual(unqueueNeverRunnable(s, 5), [], 'nothing changed: nothing looked at');
  update(s, life.start(a, 'n1', 2));
  assert.equal(s.depsChanged, false, 'a start changes no dependency for the worse');
  update(s, life.end(s.jobs.get(1)!, { type: 'exit', code: 1 }, 3));
  assert.equal(s.depsChanged, true, 'a job failed');
  const gone = unqueueNeverRunnable(s, 5);
  assert.deepEqual(
    gone.map((j) => [j.id, j.state.type]),
    [
      [2, 'undone'],
      [4, 'undone'],
      [5, 'undone'],
      [6, 'undone'],
    ],
  );
  assert.match(gone[0]!.state.type === 'undone' ? (gone[0]!.state.reason ?? '') : '', /job 1 ended failed/);
  assert.deepEqual([...s.queue], [3]);
  assert.deepEqual([...s.dependent], [3]);
});

test('cleaning a job an --afterok names flags the dependents to be looked at', () => {
  const s = emptyState();
  const a = submit(s, spec(), 1);
  submit(s, spec({ afterok: [[1, 1]] }), 1);
  unqueueNeverRunnable(s, 2);
  update(s, life.unqueue(a, 2));
  unqueueNeverRunnable(s, 2); // job 2 leaves: job 1 never ran
  assert.equal(s.jobs.get(2)!.state.type, 'undone');
  const t = emptyState();
  submit(t, spec(), 1);
  update(t, life.start(t.jobs.get(1)!, 'n1', 1));
  update(t, life.end(t.jobs.get(1)!, { type: 'exit', code: 0 }, 2));
  submit(t, spec({ afterok: [[1, 1]] }), 3);
  unqueueNeverRunnable(t, 3);
  remove(t, [1]);
  assert.equal(t.depsChanged, true);
  assert.equal(unqueueNeverRunnable(t, 4)[0]?.id, 2, 'a cleaned job cannot be checked: never');
});

test('the members of an array share one decision; runEnd and depsOf read their group', () => {
  const s = emptyState();
  submit(s, spec(), 1);
  submitGroup(s, arrayBase(2, { after: [[1, 1]] }), [1, 1, 1, 1], 1);
  submit(s, spec(), 1);
  const memo = new DepMemo(s.jobs);
  const first = memo.of(s.jobs.depsOf(2)!);
  assert.equal(first.kind, 'waiting');
  assert.equal(memo.of(s.jobs.get(4)!.spec), first, 'the same arrays: the same decision object');
  assert.deepEqual(s.jobs.depsOf(3)!.after, [[1, 1]]);
  assert.equal(s.jobs.runEnd(3), 5);
  assert.equal(s.jobs.runEnd(1), 1);
  assert.equal(s.jobs.runEnd(6), 6);
  update(s, life.start(s.jobs.get(3)!, 'n1', 2));
  assert.equal(s.jobs.runEnd(3), 5, 'a member kept whole is still in its group');
  assert.equal(s.jobs.depsOf(99), undefined);
});
