/**
 * Tests for src/master/select.ts: selector matching (status words, 'all',
 * submission directories, inclusive ID ranges incl. empty B<A ranges; all
 * OR-ed), the empty selector (everything for check, nothing for kill and
 * clean), planKill (queued -> unqueue, running -> kill, final and
 * already-being-killed jobs skipped) and planClean (final jobs only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEmpty, matches, planClean, planKill } from '../../../src/master/select.js';
import { planCheck } from '../../../src/master/check-plan.js';
import { JOB_STATUSES } from '../../../src/protocol/job.js';
import { launched, shownStatus } from '../../../src/master/lifecycle.js';
import { ALL_STATES, ids, job, sel } from './fixtures.js';
import type { Job } from '../../../src/protocol/job.js';

/** One job per status (IDs 1..10 in ALL_STATES order), each in its own directory. */
const ZOO = ALL_STATES.map((s, i) => job(i + 1, s, { cwd: `/w/${s}` }));
const byId = (id: number) => ZOO[id - 1]!;
const lists = (p: ReturnType<typeof planKill>) => ({ unqueue: p.unqueue, kill: p.kill });

test('each status word matches exactly the jobs with that status', () => {
  for (const status of JOB_STATUSES) {
    const matched = ZOO.filter((j) => matches(j, sel({ statuses: [status] })));
    assert.deepEqual(
      matched.map((j) => j.state.type),
      ZOO.filter((j) => j.state.type === status).map((j) => j.state.type),
      status,
    );
    assert.ok(matched.length >= 1);
  }
  assert.deepEqual(ids(ZOO.filter((j) => matches(j, sel({ statuses: ['running'] })))), [2, 3], 'running includes being killed');
});

test("'all' matches every job, alone or with other words", () => {
  for (const j of ZOO) {
    assert.ok(matches(j, sel({ statuses: ['all'] })));
    assert.ok(matches(j, sel({ statuses: ['done', 'all'], ranges: [[100, 100]] })));
  }
});

test('several status words are OR-ed', () => {
  const s = sel({ statuses: ['done', 'undone', 'queue'] });
  assert.deepEqual(ids(ZOO.filter((j) => matches(j, s))), [1, 4, 7]);
});

test('a directory matches jobs submitted exactly there', () => {
  const j = job(1, 'queue', { cwd: '/home/u/a' });
  assert.ok(matches(j, sel({ dirs: ['/home/u/a'] })));
  assert.ok(matches(j, sel({ dirs: ['/x', '/home/u/a'] })));
  assert.ok(!matches(j, sel({ dirs: ['/home/u'] })), 'a parent directory does not match');
  assert.ok(!matches(j, sel({ dirs: ['/home/u/a/b'] })), 'a subdirectory does not match');
  assert.ok(!matches(j, sel({ dirs: ['/home/u/ab'] })), 'a prefix-sharing sibling does not match');
});

test('ranges are inclusive at both ends', () => {
  const s = sel({ ranges: [[3, 5]] });
  assert.deepEqual(ids(ZOO.filter((j) => matches(j, s))), [3, 4, 5]);
  assert.deepEqual(ids(ZOO.filter((j) => matches(j, sel({ ranges: [[6, 6]] })))), [6]);
});

test('an empty range (last < first) matches nothing', () => {
  for (const j of ZOO) {
    assert.ok(!matches(j, sel({ ranges: [[5, 4]] })));
    assert.ok(!matches(j, sel({ ranges: [[7, 1]] })));
  }
  assert.deepEqual(
    ids(
      ZOO.filter((j) =>
        matches(
          j,
          sel({
            ranges: [
              [5, 4],
              [3, 3],
            ],
          }),
        ),
      ),
    ),
    [3],
    'other ranges still count',
  );
});

test('several ranges, overlapping or not, are OR-ed', () => {
  const s = sel({
    ranges: [
      [1, 2],
      [2, 3],
      [6, 100],
    ],
  });
  assert.deepEqual(ids(ZOO.filter((j) => matches(j, s))), [1, 2, 3, 6, 7, 8, 9, 10]);
  assert.ok(!matches(job(101), s));
});

test('statuses, directories and ranges are OR-ed with one another', () => {
  const s = sel({ statuses: ['failed'], dirs: ['/w/queue'], ranges: [[7, 7]] });
  assert.deepEqual(ids(ZOO.filter((j) => matches(j, s))), [1, 5, 7]);
});

test('matches on an empty selector is false', () => {
  for (const j of ZOO) assert.ok(!matches(j, sel()));
});

test('isEmpty: only with no status, directory or range; an empty range is not empty', () => {
  assert.ok(isEmpty(sel()));
  assert.ok(!isEmpty(sel({ statuses: ['all'] })));
  assert.ok(!isEmpty(sel({ dirs: ['/'] })));
  assert.ok(!isEmpty(sel({ ranges: [[2, 1]] })));
});

/** The IDs a check lists (every job, job by job), queued jobs in `queue` order. */
const checked = (jobs: Iterable<Job>, s: ReturnType<typeof sel>, queue: number[] = []) =>
  planCheck(jobs, s, queue, 'jobs', Infinity, 1000).ids;

test('check: the empty selector lists every job, in iteration order', () => {
  assert.deepEqual(checked(ZOO, sel()), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(checked([], sel()), []);
});

test('check: a selector filters, keeping iteration order', () => {
  assert.deepEqual(checked([...ZOO].reverse(), sel({ statuses: ['done', 'queue'] })), [4, 1]);
  assert.deepEqual(checked(ZOO, sel({ ranges: [[4, 3]] })), [], 'only an empty range: nothing');
  assert.deepEqual(checked(ZOO, sel({ ranges: [[99, 120]] })), []);
});

test('check accepts any iterable (a Map of jobs)', () => {
  const m = new Map(ZOO.map((j) => [j.id, j]));
  assert.deepEqual(checked(m.values(), sel({ statuses: ['killed'] })), [6]);
});

test("planKill 'all': queued jobs unqueued, running ones killed; final and killing ones skipped", () => {
  const plan = planKill(ZOO, sel({ statuses: ['all'] }));
  assert.deepEqual(ids(plan.unqueue), [1]);
  assert.deepEqual(ids(plan.kill), [2]);
});

test('planKill: naming final jobs or jobs being killed directly still plans nothing for them', () => {
  const plan = planKill(ZOO, sel({ ranges: [[3, 7]], statuses: ['done', 'failed', 'killed', 'undone'] }));
  assert.deepEqual(lists(plan), { unqueue: [], kill: [] });
  assert.deepEqual(lists(planKill([byId(3)], sel({ statuses: ['running'] }))), { unqueue: [], kill: [] });
});

test('planKill: the empty selector kills nothing', () => {
  assert.deepEqual(lists(planKill(ZOO, sel())), { unqueue: [], kill: [] });
});

test('planKill: only matching jobs, in iteration order', () => {
  const jobs = [job(1, 'running'), job(2, 'queue'), job(3, 'running', { cwd: '/d' }), job(4, 'queue'), job(5, 'queue', { cwd: '/d' })];
  const plan = planKill(jobs, sel({ ranges: [[1, 2]], dirs: ['/d'] }));
  assert.deepEqual(ids(plan.unqueue), [2, 5]);
  assert.deepEqual(ids(plan.kill), [1, 3]);
  assert.equal(plan.kill[0], jobs[0], 'the plan holds the given job objects');
});

test('planKill: status words pick their side of the plan', () => {
  assert.deepEqual(ids(planKill(ZOO, sel({ statuses: ['queue'] })).kill), []);
  assert.deepEqual(ids(planKill(ZOO, sel({ statuses: ['queue'] })).unqueue), [1]);
  assert.deepEqual(ids(planKill(ZOO, sel({ statuses: ['running'] })).unqueue), []);
  assert.deepEqual(ids(planKill(ZOO, sel({ statuses: ['running'] })).kill), [2]);
});

/** The IDs of the jobs a clean plan names (runs of IDs, over the jobs there are). */
const cleaned = (jobs: readonly Job[], s: ReturnType<typeof sel>): number[] => {
  const plan = planClean(jobs, s);
  const out = jobs.filter((j) => plan.runs.some(([a, b]) => j.id >= a && j.id <= b)).map((j) => j.id);
  assert.equal(out.length, plan.count);
  return out;
};

test("planClean 'all': exactly the final jobs, as one run", () => {
  assert.deepEqual(cleaned(ZOO, sel({ statuses: ['all'] })), [4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(planClean(ZOO, sel({ statuses: ['all'] })).runs, [[4, 10]]);
});

test('planClean: never queued or running jobs, however named', () => {
  const s = sel({ statuses: ['queue', 'running'], dirs: ['/w/queue', '/w/running', '/w/killing'], ranges: [[1, 3]] });
  assert.deepEqual(planClean(ZOO, s).runs, []);
});

test('planClean: the empty selector cleans nothing', () => {
  assert.equal(planClean(ZOO, sel()).count, 0);
});

test('planClean: by status, directory, range (OR-ed); a job not cleaned splits the runs, IDs of no job do not', () => {
  assert.deepEqual(cleaned(ZOO, sel({ statuses: ['failed'] })), [5]);
  assert.deepEqual(cleaned(ZOO, sel({ dirs: ['/w/undone'] })), [7]);
  assert.deepEqual(
    cleaned(
      ZOO,
      sel({
        ranges: [
          [1, 4],
          [6, 5],
        ],
      }),
    ),
    [4],
  );
  assert.deepEqual(planClean(ZOO, sel({ statuses: ['done', 'undone'] })).runs, [
    [4, 4],
    [7, 7],
  ]);
  const gappy = ZOO.filter((j) => j.id !== 6);
  assert.deepEqual(planClean(gappy, sel({ statuses: ['done', 'undone'] })).runs, [
    [4, 4],
    [7, 7],
  ]);
  assert.deepEqual(planClean(gappy, sel({ statuses: ['done', 'killed', 'undone'] })).runs, [
    [4, 4],
    [7, 7],
  ]);
  assert.deepEqual(planClean(gappy, sel({ statuses: ['done', 'failed', 'undone'] })).runs, [[4, 7]]);
});

test('planKill: compact queued members come as runs of IDs, the rest as jobs', () => {
  const plan = planKill(ZOO, sel({ statuses: ['all'] }), (id) => id === 1);
  assert.deepEqual(plan.compact.runs, [[1, 1]]);
  assert.deepEqual(ids(plan.unqueue), []);
  assert.deepEqual(ids(plan.kill), [2]);
});

test('the plans do not modify the jobs', () => {
  const copy = structuredClone(ZOO);
  planKill(ZOO, sel({ statuses: ['all'] }));
  planClean(ZOO, sel({ statuses: ['all'] }));
  checked(ZOO, sel());
  assert.deepEqual(ZOO, copy);
});

test('check: queued jobs take the places of queued jobs in queue order (a jump shows in check)', () => {
  const list = [job(1, 'done'), job(6), job(7, 'running'), job(8), job(9)];
  assert.deepEqual(checked(list, sel(), [9, 6, 8]), [1, 9, 7, 6, 8]);
  assert.deepEqual(checked(list, sel({ ranges: [[6, 8]] }), [9, 8, 6]), [8, 7, 6], 'only the selected ones');
});

test('a running job whose launch is not confirmed (no pid) shows as starting; `starting` picks only those, `running` them too', () => {
  const launching = {
    ...job(9, 'running'),
    state: { type: 'running' as const, node: 'n1', startedAt: 100, pid: null, killRequested: false },
  };
  const all = [...ZOO, launching];
  assert.equal(shownStatus(launching), 'starting');
  assert.equal(shownStatus(byId(2)), 'running');
  assert.equal(shownStatus(byId(1)), 'queue');
  assert.deepEqual(ids(all.filter((j) => matches(j, sel({ statuses: ['starting'] })))), [9]);
  assert.deepEqual(ids(all.filter((j) => matches(j, sel({ statuses: ['running'] })))), [2, 3, 9]);
  assert.deepEqual(ids(planKill(all, sel({ statuses: ['running'] })).kill), [2, 9], 'a starting job is killed with the running ones');
  assert.equal(shownStatus(launched(launching, 77)), 'running', 'launched: starting → running');
});
