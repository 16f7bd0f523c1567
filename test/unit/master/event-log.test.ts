/**
 * The event log's content and the notification decisions, as the core
 * derives them (src/master/event-log.ts, src/master/notify.ts): one line per
 * status change, none for a write that changes no status, one per run of
 * IDs for bulk changes, merged writes unfolded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusChanges, jobEvent, type JobEvent } from '../../../src/master/event-log.js';
import { checkLine, mailMessage, notifiesOnWrite, notifyWanted } from '../../../src/master/notify.js';
import * as life from '../../../src/master/lifecycle.js';
import { JobTable } from '../../../src/master/job-table.js';
import type { Job } from '../../../src/protocol/job.js';
import { EXIT0, spec } from './fixtures.js';

const T = '2025-01-01T00:00:00.000Z';
const moves = (events: JobEvent[]) => events.map((e) => `${e.last !== undefined ? `${e.job}-${e.last}` : e.job}:${e.from}>${e.to}`);

function fresh(): StatusChanges {
  const c = new StatusChanges('ann');
  c.seed(new JobTable(), []);
  return c;
}

test('a job submitted, started, ended: three lines, with node and outcome; writes that change no status: none', () => {
  const c = fresh();
  const q = life.newJob(1, spec(), 0);
  const [sub] = c.submitted(1, 1, undefined, T);
  assert.deepEqual(sub, { v: 1, time: T, user: 'ann', job: 1, from: null, to: 'queue' });
  const r = life.start(q, 'n1', 5);
  assert.deepEqual(moves(c.put(r, T)), ['1:queue>running']);
  assert.deepEqual(c.put(life.launched(r, 77), T), []); // the pid: no status change
  assert.deepEqual(c.put(life.requestKill(r), T), []);
  const [end] = c.put(life.end(r, { type: 'exit', code: 3 }, 9), T);
  assert.deepEqual(end, { v: 1, time: T, user: 'ann', job: 1, from: 'running', to: 'failed', node: 'n1', outcome: 'exit 3', exit: 3 });
  assert.equal(c.statusOf(1), 'failed');
});

test('a hold, a release, a reordering of queued jobs: no lines', () => {
  const c = fresh();
  c.submitted(1, 2, undefined, T);
  const q = life.newJob(1, spec(), 0);
  assert.deepEqual(c.put(life.hold(q, true), T), []);
  assert.deepEqual(c.put(q, T), []);
});

test('an array: one line for its submission, one per run of IDs unqueued; gaps of no job are spanned', () => {
  const c = fresh();
  assert.deepEqual(c.submitted(10, 1_000_009, 10, T), [
    { v: 1, time: T, user: 'ann', job: 10, last: 1_000_009, from: null, to: 'queue', group: 10 },
  ]);
  // Job 12 started; 20 was cleaned (no job).
  c.put({ ...life.start(life.newJob(12, spec({ group: { id: 10, index: 3, kind: 'array' } }), 0), 'n', 1) }, T);
  c.removed(20, 20);
  const events = c.unqueued(10, 1_000_009, () => 10, T);
  assert.deepEqual(moves(events), ['10-11:queue>undone', '13-1000009:queue>undone']);
  assert.equal(events[0]!.group, 10);
  assert.equal(c.statusOf(500_000), 'undone');
  assert.equal(c.statusOf(20), null);
  assert.deepEqual(
    c.unqueued(10, 11, () => 10, T),
    [],
  ); // already undone
});

test('--retry: a run that ended and was queued again in one write is two lines; started again in the same write, three', () => {
  const c = fresh();
  c.submitted(1, 1, undefined, T);
  const r = life.start(life.newJob(1, spec({ retries: 2 }), 0), 'n1', 1);
  c.put(r, T);
  const again = life.requeueFinal(life.end(r, { type: 'exit', code: 1 }, 2), 3);
  const events = c.put(again, T);
  assert.deepEqual(moves(events), ['1:running>failed', '1:failed>queue']);
  assert.equal(events[0]!.exit, 1);
  const r2 = life.start(again, 'n2', 4);
  c.put(r2, T);
  const merged = life.start(life.requeueFinal(life.end(r2, { type: 'exit', code: 1 }, 5), 6), 'n3', 7);
  const unfolded = c.put(merged, T);
  assert.deepEqual(moves(unfolded), ['1:running>failed', '1:failed>queue', '1:queue>running']);
  assert.equal(unfolded[0]!.attempt, 2);
  assert.equal(unfolded[2]!.attempt, 3);
  assert.equal(unfolded[2]!.node, 'n3');
});

test('a final job queued again and started in one write: through the queue', () => {
  const c = fresh();
  c.submitted(1, 1, undefined, T);
  const r = life.start(life.newJob(1, spec(), 0), 'n1', 1);
  c.put(r, T);
  const done = life.end(r, EXIT0, 2);
  c.put(done, T);
  assert.deepEqual(moves(c.put(life.start(life.requeueFinal(done, 3), 'n1', 4), T)), ['1:done>queue', '1:queue>running']);
});

test('seeded from the restored state: running jobs stay running without a line; every status is known', () => {
  const t = new JobTable();
  const running = life.start(life.newJob(1, spec(), 0), 'n', 1);
  t.set(running);
  t.set(life.unqueue(life.newJob(2, spec(), 0), 1));
  t.addGroup(3, { ...spec(), group: { id: 3, index: 1, kind: 'array' } }, 0, [1, 1, 1]);
  const c = new StatusChanges('ann');
  c.seed(t, [running]);
  assert.deepEqual(
    [1, 2, 3, 5, 6].map((id) => c.statusOf(id)),
    ['running', 'undone', 'queue', 'queue', null],
  );
  assert.deepEqual(c.put(life.launched(running, 9), T), []);
  assert.deepEqual(moves(c.put(life.nodeFailed(running, 5), T)), ['1:running>node_failed']);
});

test('jobEvent: an undone job says why; a later run says which', () => {
  const j: Job = { ...life.unqueue(life.newJob(4, spec(), 0), 1, 'job 3 failed') };
  assert.deepEqual(jobEvent('u', T, j, 'queue'), { v: 1, time: T, user: 'u', job: 4, from: 'queue', to: 'undone', reason: 'job 3 failed' });
});

test('notify: end is every final status, fail every one but done, all the start too; never queued', () => {
  for (const to of ['done', 'failed', 'killed', 'undone', 'node_failed'] as const) {
    assert.equal(notifyWanted('end', to), true);
    assert.equal(notifyWanted('fail', to), to !== 'done');
    assert.equal(notifyWanted('all', to), true);
    assert.equal(notifyWanted(undefined, to), false);
  }
  assert.deepEqual(
    (['end', 'fail', 'all'] as const).map((w) => notifyWanted(w, 'running')),
    [false, false, true],
  );
  assert.equal(notifyWanted('all', 'queue'), false);
});

test('notify: a write notifies at the start (not at a pid or a kill recorded) and at the end', () => {
  const q = life.newJob(1, spec({ notify: 'all' }), 0);
  const r = life.start(q, 'n', 1);
  assert.equal(notifiesOnWrite(q), false);
  assert.equal(notifiesOnWrite(r), true);
  assert.equal(notifiesOnWrite(life.launched(r, 5)), false);
  assert.equal(notifiesOnWrite(life.requestKill(r)), false);
  assert.equal(notifiesOnWrite(life.end(r, EXIT0, 2)), true);
  assert.equal(notifiesOnWrite(life.end({ ...r, spec: { ...r.spec, notify: 'fail' } }, EXIT0, 2)), false);
});

test('the mail: sendmail -t headers, a short subject, the check line', () => {
  const r = life.start(life.newJob(7, spec({ command: 'sim x', cwd: '/w' }), 0), 'n1', 1);
  const done = life.end(r, { type: 'exit', code: 2 }, 2);
  const e = jobEvent('u', T, done, 'running');
  assert.equal(checkLine(done, e), '7 (failed): sim x (on n1; wd: /w; exit 2)');
  const mail = mailMessage('me@x.org\nBcc: evil', done, e);
  assert.match(mail, /^To: me@x.org Bcc: evil\nSubject: qpy: job 7 failed\n/);
  assert.match(mail, /\n\n7 \(failed\): sim x \(on n1; wd: \/w; exit 2\)\n$/);
});
