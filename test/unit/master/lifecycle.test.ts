/**
 * Tests for src/master/lifecycle.ts: the job state machine. Every verb is
 * tried from every status (legal ones checked for their result, the rest for
 * ILLEGAL_TRANSITION), end()'s outcome mapping, and purity of every verb.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as life from '../../../src/master/lifecycle.js';
import type { Job, Outcome } from '../../../src/protocol/job.js';
import { QpyError } from '../../../src/errors.js';
import { ALL_STATES, EXIT0, assertIllegal, job, spec } from './fixtures.js';

type From = (typeof ALL_STATES)[number];

/** Each verb, applied with fixed arguments, and the statuses it accepts. */
const VERBS: { name: string; run: (j: Job) => Job; legal: From[] }[] = [
  { name: 'start', run: (j) => life.start(j, 'n2', 500), legal: ['queue'] },
  { name: 'launched', run: (j) => life.launched(j, 77), legal: ['running', 'killing'] },
  { name: 'requeue', run: (j) => life.requeue(j), legal: ['running', 'killing'] },
  { name: 'requestKill', run: (j) => life.requestKill(j), legal: ['running', 'killing'] },
  { name: 'end', run: (j) => life.end(j, EXIT0, 500), legal: ['running', 'killing'] },
  { name: 'unqueue', run: (j) => life.unqueue(j, 500), legal: ['queue'] },
  { name: 'nodeFailed', run: (j) => life.nodeFailed(j, 500), legal: ['running', 'killing'] },
  { name: 'hold', run: (j) => life.hold(j, true), legal: ['queue'] },
];

for (const verb of VERBS) {
  for (const from of ALL_STATES) {
    const legal = verb.legal.includes(from);
    test(`${verb.name} from ${from}: ${legal ? 'allowed' : 'ILLEGAL_TRANSITION'}`, () => {
      const before = job(7, from);
      const snapshot = structuredClone(before);
      if (legal) {
        const after = verb.run(before);
        assert.equal(after.id, 7);
        assert.deepEqual(after.spec, before.spec);
        assert.equal(after.queuedAt, before.queuedAt);
        assert.notEqual(after, before, 'a new object is returned');
      } else {
        assertIllegal(() => verb.run(before));
      }
      assert.deepEqual(before, snapshot, 'the input job is never mutated');
    });
  }
}

test('the refusal names the job, its status and the verb', () => {
  try {
    life.start(job(12, 'done'), 'n1', 1);
    assert.fail('start of a done job was accepted');
  } catch (err) {
    assert.ok(err instanceof QpyError);
    assert.equal(err.code, 'ILLEGAL_TRANSITION');
    assert.match(err.message, /job 12 is done: cannot start it/);
  }
});

test('newJob: a queued job with the given id, spec and time', () => {
  const s = spec({ cores: 3 });
  assert.deepEqual(life.newJob(5, s, 1234), { id: 5, spec: s, queuedAt: 1234, state: { type: 'queue' } });
});

test('start: running on the node, at now, pid unknown, no kill requested', () => {
  const j = life.start(job(1, 'queue'), 'node-a', 900);
  assert.deepEqual(j.state, { type: 'running', node: 'node-a', startedAt: 900, pid: null, killRequested: false });
});

test('launched: records the pid and keeps everything else, including a kill request', () => {
  const started = life.start(job(1), 'n', 100);
  assert.deepEqual(life.launched(started, 4321).state, { ...started.state, pid: 4321 });
  const killing = life.requestKill(started);
  assert.deepEqual(life.launched(killing, 9).state, { type: 'running', node: 'n', startedAt: 100, pid: 9, killRequested: true });
});

test('nodeFailed: final, on the same node and start time, ended at now (never before the start)', () => {
  const started = life.start(job(4), 'n3', 100);
  const failed = life.nodeFailed(life.launched(started, 55), 900);
  assert.deepEqual(failed.state, { type: 'node_failed', node: 'n3', startedAt: 100, endedAt: 900 });
  assert.ok(life.isFinal(failed));
  assert.deepEqual(life.nodeFailed(started, 50).state, { type: 'node_failed', node: 'n3', startedAt: 100, endedAt: 100 });
  assert.equal(life.nodeFailed(life.requestKill(started), 900).state.type, 'node_failed', 'a job being killed fails with its node too');
});

test('requeue: back to a bare queue state (node, times and pid dropped)', () => {
  const j = life.requeue(life.start(job(3), 'n', 100));
  assert.deepEqual(j.state, { type: 'queue' });
  assert.equal(j.queuedAt, 10, 'the original submission time is kept');
  // And it can be started again.
  assert.equal(life.start(j, 'n2', 200).state.type, 'running');
});

test('requestKill: stays running with killRequested set; asking twice is harmless', () => {
  const once = life.requestKill(job(1, 'running'));
  assert.deepEqual(once.state, { type: 'running', node: 'n1', startedAt: 100, pid: 42, killRequested: true });
  assert.deepEqual(life.requestKill(once).state, once.state);
});

test('unqueue: undone, ended at now', () => {
  assert.deepEqual(life.unqueue(job(1, 'queue'), 777).state, { type: 'undone', endedAt: 777 });
});

const OUTCOMES: { outcome: Outcome; status: 'done' | 'failed' }[] = [
  { outcome: { type: 'exit', code: 0 }, status: 'done' },
  { outcome: { type: 'exit', code: 1 }, status: 'failed' },
  { outcome: { type: 'exit', code: 255 }, status: 'failed' },
  { outcome: { type: 'exit', code: -1 }, status: 'failed' },
  { outcome: { type: 'signal', signal: 'SIGKILL' }, status: 'failed' },
  { outcome: { type: 'signal', signal: 'SIGTERM' }, status: 'failed' },
  { outcome: { type: 'lost' }, status: 'failed' },
];

for (const { outcome, status } of OUTCOMES) {
  const label = JSON.stringify(outcome);
  test(`end ${label} without a kill request -> ${status}`, () => {
    const j = life.end(job(4, 'running'), outcome, 300);
    assert.deepEqual(j.state, { type: status, node: 'n1', startedAt: 100, endedAt: 300, outcome });
    assert.ok(life.isFinal(j));
  });
  test(`end ${label} with a kill request -> killed`, () => {
    const j = life.end(job(4, 'killing'), outcome, 300);
    assert.deepEqual(j.state, { type: 'killed', node: 'n1', startedAt: 100, endedAt: 300, outcome });
  });
}

test('end: endedAt is never before startedAt (clock went back)', () => {
  for (const killing of [false, true]) {
    const running = life.start(job(1), 'n', 5000);
    const j = life.end(killing ? life.requestKill(running) : running, EXIT0, 4000);
    assert.ok(j.state.type !== 'queue' && j.state.type !== 'running' && j.state.type !== 'undone');
    assert.equal(j.state.startedAt, 5000);
    assert.equal(j.state.endedAt, 5000);
  }
  const same = life.end(life.start(job(1), 'n', 5000), EXIT0, 5000);
  assert.equal(same.state.type === 'done' && same.state.endedAt, 5000);
});

test('end: works whether or not the pid was learnt', () => {
  const noPid = life.start(job(1), 'n', 1);
  assert.equal(life.end(noPid, { type: 'lost' }, 2).state.type, 'failed');
  assert.equal(life.end(life.requestKill(noPid), { type: 'lost' }, 2).state.type, 'killed');
});

test('isFinal: only queue and running are not final', () => {
  const finals = ALL_STATES.filter((s) => life.isFinal(job(1, s)));
  assert.deepEqual(finals, ['done', 'failed', 'killed', 'undone', 'node_failed', 'timeout', 'out_of_memory']);
});

test('end by a limit: timeout or out_of_memory (the kernel named when it killed), with the usage kept; a kill asked for comes first', () => {
  const running = life.launched(life.start(life.newJob(1, spec({ time: 60 }), 0), 'n', 10), 99);
  const usage = { userMs: 1200, sysMs: 30, peakKB: 2048 };
  const term = { type: 'signal', signal: 'SIGTERM' } as const;
  assert.deepEqual(life.end(running, term, 70, { limit: 'time', usage }).state, {
    type: 'timeout',
    node: 'n',
    startedAt: 10,
    endedAt: 70,
    outcome: term,
    usage,
  });
  assert.equal(life.end(running, term, 70, { limit: 'memory' }).state.type, 'out_of_memory');
  const kernel = life.end(running, { type: 'signal', signal: 'SIGKILL' }, 70, { limit: 'oom' }).state;
  assert.deepEqual([kernel.type, kernel.type === 'out_of_memory' && kernel.by], ['out_of_memory', 'kernel']);
  const cgroup = life.end(running, { type: 'signal', signal: 'SIGKILL' }, 70, { limit: 'cgroup' }).state;
  assert.deepEqual([cgroup.type, cgroup.type === 'out_of_memory' && cgroup.by], ['out_of_memory', 'cgroup']);
  assert.equal(life.end(life.requestKill(running), term, 70, { limit: 'time' }).state.type, 'killed');
  // A retried timeout keeps its run, usage included, as an attempt.
  const again = life.requeueFinal(life.end(running, term, 70, { limit: 'time', usage }), 80);
  assert.deepEqual(again.attempts, [{ status: 'timeout', node: 'n', startedAt: 10, endedAt: 70, outcome: term, usage }]);
  assert.equal(life.retriesLeft(life.end({ ...running, spec: { ...running.spec, retries: 3 } }, term, 70, { limit: 'time' })), false);
});

test('a full life: queue -> running -> launched -> kill -> killed, then nothing more', () => {
  let j = life.newJob(1, spec(), 0);
  j = life.start(j, 'n', 10);
  j = life.launched(j, 99);
  j = life.requestKill(j);
  j = life.end(j, { type: 'signal', signal: 'SIGTERM' }, 20);
  assert.equal(j.state.type, 'killed');
  const final = j;
  for (const verb of VERBS) assertIllegal(() => verb.run(final));
});
