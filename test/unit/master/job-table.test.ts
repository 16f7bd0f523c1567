/**
 * Tests for JobTable (src/master/job-table.ts): compact members of arrays
 * and loads read back exactly as the jobs they stand for, in ID order with
 * the other jobs; written-back members, deletions, and the rebuild from the
 * store, checked against a plain Map of the same jobs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobTable } from '../../../src/master/job-table.js';
import type { Job, JobSpec } from '../../../src/protocol/job.js';
import { job, spec, stateOf } from './fixtures.js';

type Base = JobSpec & { group: NonNullable<JobSpec['group']> };
const arrayBase = (id: number, index: number, cap?: number): Base => ({
  ...spec({ command: 'run $QPY_ARRAY_INDEX', priority: 2 }),
  group: cap === undefined ? { id, index, kind: 'array' } : { id, index, kind: 'array', cap },
});
const loadBase = (id: number): Base => ({ ...spec({ command: 'line 1', afterok: [[1, 1]] }), group: { id, index: 1, kind: 'load' } });

/** The job a compact member must read back as: what a one-by-one submission would have made. */
function member(base: Base, first: number, i: number, command: string, queuedAt: number): Job {
  const g = base.group;
  const group =
    g.cap === undefined ? { id: g.id, index: g.index + i, kind: g.kind } : { id: g.id, index: g.index + i, kind: g.kind, cap: g.cap };
  return { id: first + i, spec: { ...base, command, group }, queuedAt, state: { type: 'queue' } };
}

function sample(): { table: JobTable; model: Map<number, Job> } {
  const table = new JobTable();
  const model = new Map<number, Job>();
  const add = (j: Job) => {
    table.set(j);
    model.set(j.id, j);
  };
  add(job(1, 'done'));
  add(job(2, 'queue'));
  const ab = arrayBase(3, 5, 2);
  table.addGroup(3, ab, 77, new Array<1>(4).fill(1));
  for (let i = 0; i < 4; i++) model.set(3 + i, member(ab, 3, i, ab.command, 77));
  add(job(7, 'running'));
  const lb = loadBase(8);
  const lines = ['line 1', 'line 2', 'line 3'];
  table.addGroup(8, lb, 88, lines);
  for (const [i, c] of lines.entries()) model.set(8 + i, member(lb, 8, i, c, 88));
  add(job(11, 'failed'));
  return { table, model };
}

const same = (table: JobTable, model: Map<number, Job>) => {
  assert.equal(table.size, model.size);
  assert.deepEqual(
    [...table.values()],
    [...model.values()].sort((a, b) => a.id - b.id),
  );
  assert.deepEqual(
    [...table.keys()],
    [...model.keys()].sort((a, b) => a - b),
  );
  for (let id = 0; id <= 12; id++) {
    assert.deepEqual(table.get(id), model.get(id), `job ${id}`);
    assert.equal(table.has(id), model.has(id));
  }
  for (const j of table.values())
    assert.equal(JSON.stringify(j), JSON.stringify(model.get(j.id)), 'the stored form is unchanged, key order and all');
};

test('compact members read back as whole jobs, in ID order with the others', () => {
  const { table, model } = sample();
  same(table, model);
  assert.equal(table.compactSize, 7);
});

test('a member written back is kept whole; deletions leave no trace', () => {
  const { table, model } = sample();
  const started: Job = { ...model.get(4)!, state: stateOf('running') };
  table.set(started);
  model.set(4, started);
  for (const id of [3, 9, 2, 11]) {
    assert.equal(table.delete(id), true);
    model.delete(id);
  }
  assert.equal(table.delete(3), false, 'already gone');
  same(table, model);
  assert.equal(table.compactSize, 4);
  for (const id of [5, 6, 4]) {
    table.delete(id);
    model.delete(id);
  }
  same(table, model);
  table.set(job(12, 'queue'));
  model.set(12, job(12, 'queue'));
  same(table, model);
});

test('rebuilt from the store, plainly queued members sharing a spec are compact again, and read back the same', () => {
  const { table, model } = sample();
  const held: Job = { ...model.get(9)!, state: { type: 'queue', held: true } };
  table.set(held);
  model.set(9, held);
  table.delete(4);
  model.delete(4);
  const stored = [...table.values()].map((j) => JSON.parse(JSON.stringify(j)) as Job);
  const again = new JobTable();
  for (const j of stored) again.restore(j);
  same(again, model);
  assert.equal(again.compactSize, 5, '3 of the array across the cleaned gap, 2 of the load around the held job');
});

test('members differing from their group are kept whole when rebuilt', () => {
  const base = arrayBase(1, 1);
  const jobs = [0, 1, 2, 3].map((i) => member(base, 1, i, base.command, 5));
  jobs[1] = { ...jobs[1]!, queuedAt: 6 }; // queued again later
  jobs[2] = { ...jobs[2]!, spec: { ...jobs[2]!.spec, command: 'other' } };
  jobs[3] = { ...jobs[3]!, attempts: [{ status: 'failed', node: 'n', startedAt: 1, endedAt: 2, outcome: { type: 'exit', code: 1 } }] };
  const t = new JobTable();
  for (const j of jobs) t.restore(j);
  assert.deepEqual([...t.values()], jobs);
  assert.equal(t.compactSize, 3, 'the first, and the next two each starting a group of its own; the one with attempts whole');
});

test('a name and output patterns are part of the spec a compact member shares', () => {
  const base = { ...arrayBase(1, 1), name: 'fit', out: 'logs/%x-%a.out' };
  const jobs = [0, 1, 2].map((i) => member(base, 1, i, base.command, 5));
  jobs[2] = { ...jobs[2]!, spec: { ...jobs[2]!.spec, name: 'other' } };
  const t = new JobTable();
  for (const j of jobs) t.restore(j);
  assert.deepEqual([...t.values()], jobs);
  assert.equal(t.compactSize, 3, 'the first two as one group, the one named otherwise a group of its own');
});

test('jobs set out of ID order are still walked in ID order', () => {
  const t = new JobTable();
  for (const id of [5, 2, 9, 1]) t.set(job(id, 'done'));
  assert.deepEqual([...t.keys()], [1, 2, 5, 9]);
});

test('compact members unqueued stay compact and read back as undone jobs; the store rows and template say the same', () => {
  const { table, model } = sample();
  for (const [id, at] of [
    [4, 500],
    [5, 500],
    [9, 600],
  ] as const) {
    assert.equal(table.unqueueCompact(id, at), true);
    model.set(id, { ...model.get(id)!, state: { type: 'undone', endedAt: at } });
  }
  assert.equal(table.unqueueCompact(4, 700), false, 'no longer queued');
  assert.equal(table.unqueueCompact(2, 700), false, 'a whole job is not compact');
  same(table, model);
  assert.equal(table.compactSize, 7, 'still compact');
  assert.deepEqual(
    [table.statusOf(4), table.statusOf(6), table.isCompactQueued(4), table.isCompactQueued(6)],
    ['undone', 'queue', false, true],
  );
  assert.deepEqual(table.compactRow(4), { group: 3, command: null, endedAt: 500 });
  assert.deepEqual(table.compactRow(10), { group: 8, command: 'line 3', endedAt: null });
  assert.equal(table.compactRow(2), null);
  assert.deepEqual(table.templateOf(3), { spec: arrayBase(3, 5, 2), queuedAt: 77 });
  assert.equal(table.templateOf(4), undefined, 'a member is no group');
  // A member written back whole (requeued, say) is whole again.
  const again: Job = { ...model.get(5)!, state: { type: 'queue' }, queuedAt: 900 };
  table.set(again);
  model.set(5, again);
  same(table, model);
  // Rebuilt from compact rows and whole rows, in ID order: the same jobs.
  const rebuilt = new JobTable();
  for (const j of [...table.values()]) {
    const row = table.compactRow(j.id);
    const g = j.spec.group?.id;
    if (row !== null && g !== undefined) rebuilt.restoreCompact(j.id, table.templateOf(g)!, row);
    else rebuilt.restore(JSON.parse(JSON.stringify(j)) as Job);
  }
  same(rebuilt, model);
  assert.deepEqual(JobTable.expandCompact(4, table.templateOf(3)!, { group: 3, command: null, endedAt: 500 }), model.get(4));
});
