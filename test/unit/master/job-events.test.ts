/**
 * What the master does with a node's answers (src/master/job-events.ts):
 * how a failed launch is classed and handled, the retry policy at a job's
 * end, a kill waiting for a pid, adoption after a restart, a node given up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../../src/protocol/job.js';
import type { MasterCore } from '../../../src/master/core.js';
import {
  adoptAnswer,
  failNodeJobs,
  jobEnded,
  launched,
  launchFailed,
  launchFailureClass,
  requeueFirst,
} from '../../../src/master/job-events.js';
import * as life from '../../../src/master/lifecycle.js';
import { update } from '../../../src/master/state.js';
import type { JobSpec } from '../../../src/protocol/job.js';
import { add, kinds, makeCore } from './outbox.js';

/** A job started on `node` (pid unknown yet). */
function starting(core: MasterCore, over: Partial<JobSpec> = {}, node = 'n1'): Job {
  return update(core.state, life.start(add(core, over), node, 10));
}

const EXIT1 = { type: 'exit', code: 1 } as const;

test('launch failures are classed: not reached, link lost, anything else', () => {
  assert.equal(launchFailureClass(true, 'SSH_CONNECT'), 'not_reached');
  assert.equal(launchFailureClass(false, 'NODE_LINK_LOST'), 'link_lost');
  assert.equal(launchFailureClass(false, 'INTERNAL'), 'error');
  assert.equal(launchFailureClass(false, null), 'error');
});

test('node not reached: queued again first in line, slot given back at the next pass', () => {
  const core = makeCore();
  add(core);
  const j = starting(core);
  const effects = launchFailed(core.state, j.id, 'not_reached', 'refused', 20);
  assert.deepEqual(kinds(effects), ['log', 'put', 'releaseAtNextPass', 'dispatch']);
  assert.deepEqual([...core.state.queue], [j.id, 1]);
  const put = effects.find((e) => e.type === 'put');
  assert.deepEqual(put && put.type === 'put' && [put.job.state.type, put.pos], ['queue', j.id]);
});

test('node not reached for a job killed while starting: undone', () => {
  const core = makeCore();
  const j = update(core.state, life.requestKill(starting(core)));
  const effects = launchFailed(core.state, j.id, 'not_reached', 'refused', 20);
  assert.equal(core.state.jobs.get(j.id)!.state.type, 'undone');
  assert.deepEqual([...core.state.queue], []);
  assert.ok(kinds(effects).includes('releaseAtNextPass'));
});

test('link lost mid-launch: the job may run, so it is adopted', () => {
  const core = makeCore();
  const j = starting(core);
  const effects = launchFailed(core.state, j.id, 'link_lost', 'gone', 20);
  assert.deepEqual(kinds(effects), ['log', 'adopt']);
  assert.equal(core.state.jobs.get(j.id)!.state.type, 'running');
});

test('a wrapper that could not start: the job ends failed (and is retried if it may be)', () => {
  const core = makeCore();
  const j = starting(core);
  launchFailed(core.state, j.id, 'error', 'no such directory', 20);
  const s = core.state.jobs.get(j.id)!.state;
  assert.equal(s.type, 'failed');
  assert.deepEqual(s.type === 'failed' && s.outcome, { type: 'error', message: 'no such directory' });
  const r = starting(core, { retries: 1 });
  launchFailed(core.state, r.id, 'error', 'x', 20);
  assert.equal(core.state.jobs.get(r.id)!.state.type, 'queue');
});

test('a launch failure after the pid is known, or after the job left running, changes nothing', () => {
  const core = makeCore();
  const j = update(core.state, life.launched(starting(core), 77));
  assert.deepEqual(launchFailed(core.state, j.id, 'not_reached', 'x', 20), []);
  update(core.state, life.nodeFailed(j, 30));
  assert.deepEqual(launchFailed(core.state, j.id, 'error', 'x', 40), []);
});

test('a launch confirmed: the pid is kept; a kill asked for meanwhile is carried out now', () => {
  const core = makeCore();
  const j = starting(core);
  assert.deepEqual(launched(core.state, j.id, 5), []);
  assert.equal(core.state.jobs.get(j.id)!.state.type === 'running' && (core.state.jobs.get(j.id)!.state as { pid: number }).pid, 5);
  const k = update(core.state, life.requestKill(starting(core)));
  assert.deepEqual(kinds(launched(core.state, k.id, 6)), ['kill']);
  assert.deepEqual(launched(core.state, k.id, 7), [], 'only once');
});

test('an end: done or failed, committed soon, run file forgotten after, slot back at the next pass', () => {
  const core = makeCore();
  const j = starting(core);
  const effects = jobEnded(core.state, j.id, { outcome: { type: 'exit', code: 0 } }, 50);
  assert.deepEqual(kinds(effects), ['put', 'commitSoon', 'releaseAtNextPass', 'dispatch']);
  const soon = effects.find((e) => e.type === 'commitSoon');
  assert.deepEqual(soon?.type === 'commitSoon' && kinds(soon.afterwards), ['forget']);
  assert.equal(core.state.jobs.get(j.id)!.state.type, 'done');
  assert.deepEqual(
    effects.find((e) => e.type === 'releaseAtNextPass'),
    { type: 'releaseAtNextPass', jobId: j.id, ended: 'done' },
    'the release says how the run ended (qpy-multiuser counts failures)',
  );
  assert.deepEqual(jobEnded(core.state, j.id, { outcome: EXIT1 }, 60), [], 'a second end changes nothing');
});

test('retry policy: a failure with --retry left is queued again as a new attempt; a kill or success is not', () => {
  const core = makeCore();
  const j = starting(core, { retries: 2 });
  const first = jobEnded(core.state, j.id, { outcome: EXIT1 }, 50);
  assert.equal(first.find((e) => e.type === 'releaseAtNextPass')?.ended, 'failed', 'a run retried still ended failed');
  assert.ok(first.some((e) => e.type === 'log' && e.text.includes('attempt 2 of 3')));
  let now = core.state.jobs.get(j.id)!;
  assert.equal(now.state.type, 'queue');
  assert.equal(now.attempts?.length, 1);
  update(core.state, life.start(now, 'n1', 60));
  jobEnded(core.state, j.id, { outcome: EXIT1 }, 70);
  now = update(core.state, life.start(core.state.jobs.get(j.id)!, 'n1', 80));
  jobEnded(core.state, j.id, { outcome: EXIT1 }, 90);
  assert.equal(core.state.jobs.get(j.id)!.state.type, 'failed', 'three runs: no retry left');
  assert.equal(core.state.jobs.get(j.id)!.attempts?.length, 2);
  const k = update(core.state, life.requestKill(starting(core, { retries: 5 })));
  jobEnded(core.state, k.id, { outcome: EXIT1 }, 50);
  assert.equal(core.state.jobs.get(k.id)!.state.type, 'killed', 'a killed job is not retried');
});

test('an end keeps what the run used; a run that could not start ends failed with its reason; a retry keeps each run’s usage', () => {
  const core = makeCore();
  const usage = { userMs: 1500, sysMs: 20, peakKB: 61440 };
  const j = starting(core, { retries: 1 });
  jobEnded(core.state, j.id, { outcome: EXIT1, usage }, 50);
  const again = core.state.jobs.get(j.id)!;
  assert.equal(again.state.type, 'queue');
  assert.deepEqual(again.attempts?.[0]?.usage, usage, 'the attempt keeps its run’s usage');
  update(core.state, life.start(again, 'n1', 60));
  jobEnded(core.state, j.id, { outcome: { type: 'exit', code: 0 }, usage: { userMs: 3, sysMs: 1 } }, 70);
  const s = core.state.jobs.get(j.id)!.state;
  assert.deepEqual(s.type === 'done' && s.usage, { userMs: 3, sysMs: 1 }, 'the final state has its own run’s');
  const k = starting(core);
  jobEnded(core.state, k.id, { outcome: { type: 'exit', code: 126 }, error: 'job directory does not exist' }, 50);
  const f = core.state.jobs.get(k.id)!.state;
  assert.deepEqual(f.type === 'failed' && [f.outcome, f.usage], [{ type: 'error', message: 'job directory does not exist' }, undefined]);
});

test('the end of a node_failed job, seen when its node came back, only forgets its run file', () => {
  const core = makeCore();
  const j = starting(core);
  update(core.state, life.nodeFailed(j, 30));
  assert.deepEqual(jobEnded(core.state, j.id, { outcome: EXIT1 }, 50), [{ type: 'forget', jobId: j.id }]);
});

test('adoption: never started → slot released, queued again; killed meanwhile → undone', () => {
  const core = makeCore();
  const a = starting(core);
  const r = adoptAnswer(core.state, a, 'never_started', null, 40);
  assert.equal(r.requeued, true);
  assert.deepEqual(kinds(r.effects), ['release', 'log']);
  const b = update(core.state, life.requestKill(starting(core)));
  const k = adoptAnswer(core.state, b, 'never_started', null, 40);
  assert.equal(k.requeued, false);
  assert.equal(core.state.jobs.get(b.id)!.state.type, 'undone');
});

test('adoption: running → its pid recorded if unknown, a pending kill resumed; ended → nothing', () => {
  const core = makeCore();
  const a = starting(core);
  const r = adoptAnswer(core.state, a, 'running', 99, 40);
  assert.deepEqual(kinds(r.effects), ['put']);
  const b = update(core.state, life.requestKill(update(core.state, life.launched(starting(core), 5))));
  assert.deepEqual(kinds(adoptAnswer(core.state, b, 'running', 5, 40).effects), ['kill']);
  assert.deepEqual(adoptAnswer(core.state, starting(core), 'ended', null, 40).effects, []);
});

test('jobs queued again by adoption go first, in their order; only they are stored, first in line', () => {
  const core = makeCore();
  add(core);
  const a = starting(core);
  const b = starting(core);
  adoptAnswer(core.state, b, 'never_started', null, 1);
  adoptAnswer(core.state, a, 'never_started', null, 1);
  const effects = requeueFirst(core.state, [a.id, b.id]);
  assert.deepEqual([...core.state.queue], [a.id, b.id, 1]);
  assert.deepEqual(
    effects.map((e) => (e.type === 'put' ? [e.job.id, e.pos] : null)),
    [
      [a.id, 'first'],
      [b.id, 'first'],
    ],
  );
  assert.deepEqual(requeueFirst(core.state, []), []);
});

test('a node given up: its running jobs become node_failed, others untouched', () => {
  const core = makeCore();
  const a = starting(core, {}, 'n1');
  const b = starting(core, {}, 'n2');
  const { failed, effects } = failNodeJobs(core.state, 'n1', 70);
  assert.deepEqual(failed, [a.id]);
  assert.deepEqual(kinds(effects), ['put']);
  assert.equal(core.state.jobs.get(b.id)!.state.type, 'running');
});
