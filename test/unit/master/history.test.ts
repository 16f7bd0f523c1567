/** History, decided: the rows a job's write adds, what a page lists, what pruning removes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { historyRecordsOf, historyReply, prunePlan, rangeRecords, rowMatches } from '../../../src/master/history.js';
import { DEFAULT_SETTINGS } from '../../../src/protocol/settings.js';
import type { StoredHistoryRow } from '../../../src/protocol/history.js';
import type { Job } from '../../../src/protocol/job.js';
import { readPage } from '../../../src/cli/commands/history.js';
import { job, sel } from './fixtures.js';

test('a final job is one row, its final state; a queued or running job without attempts is none', () => {
  const done = job(3, 'done');
  assert.deepEqual(historyRecordsOf(done), [{ id: 3, last: 3, status: 'done', ended: 200, cwd: '/home/u/work', record: done }]);
  assert.deepEqual(
    historyRecordsOf(job(4, 'undone')).map((r) => [r.status, r.ended]),
    [['undone', 50]],
  );
  assert.deepEqual(
    historyRecordsOf(job(5, 'node_failed')).map((r) => r.status),
    ['node_failed'],
  );
  assert.deepEqual(historyRecordsOf(job(6, 'queue')), []);
  assert.deepEqual(historyRecordsOf(job(7, 'running')), []);
});

test('a job queued again after a run writes that run: the job as it stood then, earlier attempts kept', () => {
  const a1 = { status: 'failed' as const, node: 'n1', startedAt: 1, endedAt: 2, outcome: { type: 'exit' as const, code: 1 } };
  const a2 = {
    status: 'node_failed' as const,
    node: 'n2',
    startedAt: 3,
    endedAt: 4,
    outcome: null,
    usage: { userMs: 1, sysMs: 2, peakKB: 3 },
  };
  const again: Job = { ...job(8, 'queue'), attempts: [a1, a2] };
  const [r] = historyRecordsOf(again);
  assert.equal(historyRecordsOf(again).length, 1);
  assert.deepEqual(
    { ...r, record: undefined },
    { id: 8, last: 8, status: 'node_failed', ended: 4, cwd: '/home/u/work', record: undefined },
  );
  assert.deepEqual(r!.record.state, {
    type: 'node_failed',
    node: 'n2',
    startedAt: 3,
    endedAt: 4,
    usage: { userMs: 1, sysMs: 2, peakKB: 3 },
  });
  assert.deepEqual(r!.record.attempts, [a1]);
  const once: Job = { ...job(9, 'running'), attempts: [a1] };
  const [r1] = historyRecordsOf(once);
  assert.deepEqual(r1!.record.state, { type: 'failed', node: 'n1', startedAt: 1, endedAt: 2, outcome: { type: 'exit', code: 1 } });
  assert.equal('attempts' in r1!.record, false);
  // The final run of a job that ran before: its own row (its attempts were written when it was queued again).
  assert.deepEqual(
    historyRecordsOf({ ...job(9, 'done'), attempts: [a1] }).map((x) => x.status),
    ['done'],
  );
});

test('compact members unqueued together: one row per group run, the first undone member standing for it', () => {
  const undone = (id: number): Job => ({ ...job(id, 'undone'), state: { type: 'undone', endedAt: 77 } });
  // Group A is 10-19, group B 20-29; 10 was kept whole and is still queued.
  const jobs = {
    get: (id: number) => (id === 10 ? job(10, 'queue') : id >= 10 && id <= 29 ? undone(id) : undefined),
    runEnd: (id: number) => (id < 20 ? 19 : 29),
  };
  assert.deepEqual(
    rangeRecords(jobs, 10, 25).map((r) => [r.id, r.last, r.status, r.ended]),
    [
      [11, 19, 'undone', 77],
      [20, 25, 'undone', 77],
    ],
  );
  assert.deepEqual(rangeRecords(jobs, 10, 10), []);
});

const row = (id: number, status: string, last = id, cwd = '/w'): StoredHistoryRow => ({
  seq: id,
  id,
  last,
  status,
  ended: 1000 + id,
  cwd,
  doc: JSON.stringify({ ...job(id, 'done'), spec: { ...job(id).spec, cwd } }),
});

test('the selector: status words, directories and ID ranges OR-ed, a run of IDs matching when it overlaps; empty matches all', () => {
  const r = row(5, 'failed', 5, '/a');
  assert.equal(rowMatches(r, sel()), true);
  assert.equal(rowMatches(r, sel({ statuses: ['failed'] })), true);
  assert.equal(rowMatches(r, sel({ statuses: ['done'] })), false);
  assert.equal(rowMatches(r, sel({ statuses: ['all'] })), true);
  assert.equal(rowMatches(r, { statuses: ['done'], dirs: ['/a'], ranges: [] }), true);
  assert.equal(rowMatches(r, { statuses: [], dirs: [], ranges: [[1, 4]] }), false);
  assert.equal(rowMatches(r, { statuses: [], dirs: [], ranges: [[5, 5]] }), true);
  const span = row(10, 'undone', 20);
  assert.equal(rowMatches(span, { statuses: [], dirs: [], ranges: [[15, 30]] }), true);
  assert.equal(rowMatches(span, { statuses: [], dirs: [], ranges: [[21, 30]] }), false);
  assert.equal(rowMatches(span, { statuses: [], dirs: [], ranges: [[15, 12]] }), false);
});

test('a page: matching rows as stored, runs of IDs as spans, `more` when the scan was full; the CLI reads each record alone', () => {
  const rows = [row(1, 'done'), { ...row(2, 'done'), doc: '{"broken' }, row(3, 'failed'), row(4, 'undone', 9)];
  const all = historyReply(7, rows, sel(), DEFAULT_SETTINGS, 4);
  assert.deepEqual(
    all.records,
    rows.map((r) => r.doc),
  );
  assert.deepEqual(all.spans, [[3, 9]]);
  assert.deepEqual(all.more, [1004, 4]);
  const read = readPage(all);
  assert.deepEqual(
    read.records.map((r) => [r.job.id, r.last]),
    [
      [1, undefined],
      [3, undefined],
      [4, 9],
    ],
  );
  assert.equal(read.skipped, 1);
  assert.equal(readPage({ records: ['{"id":1}'], spans: [] }).skipped, 1); // JSON, but no Job
  const some = historyReply(7, rows, sel({ statuses: ['failed'] }), DEFAULT_SETTINGS, 5);
  assert.deepEqual(
    some.records.map((d) => (JSON.parse(d) as Job).id),
    [3],
  );
  assert.equal(some.more, undefined);
  assert.equal(historyReply(1, [], sel(), DEFAULT_SETTINGS, 5).more, undefined);
});

test('pruning: records older than historyDays, and all but the newest historyJobs by the order written', () => {
  const now = 100 * 86_400_000;
  const s = { historyDays: 90, historyJobs: 1000 };
  assert.deepEqual(prunePlan(s, now, null), { endedBefore: 10 * 86_400_000, seqUpTo: null });
  assert.deepEqual(prunePlan(s, now, 1000), { endedBefore: 10 * 86_400_000, seqUpTo: null });
  assert.deepEqual(prunePlan(s, now, 1500), { endedBefore: 10 * 86_400_000, seqUpTo: 500 });
  assert.deepEqual(prunePlan(DEFAULT_SETTINGS, now, 5).endedBefore, 10 * 86_400_000);
});
