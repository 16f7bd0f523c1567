/** Tests for src/cli/format-check.ts: checkFMT codes (spec §5.4) and the check reply. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_CHECK_FORMAT,
  formatCheck,
  formatDuration,
  formatJob,
  formatOutcome,
  formatTime,
  pyFloat,
} from '../../../src/cli/format-check.js';
import type { Job, JobState } from '../../../src/protocol/job.js';

process.env.TZ = 'UTC';

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678); // 2024-01-02 03:04:05.678

function job(id: number, state: JobState, over: Partial<Job['spec']> = {}): Job {
  return {
    id,
    queuedAt: T0,
    spec: { command: 'sleep 30', cwd: '/tmp/w', cores: 1, memGB: 5, attrs: null, ...over },
    state,
  };
}

const queued = job(4, { type: 'queue' });
const running = job(2, { type: 'running', node: 'localhost', startedAt: T0 + 1000, pid: 77, killRequested: false });
const failed = job(
  3,
  {
    type: 'failed',
    node: 'localhost',
    startedAt: T0 + 1000,
    endedAt: T0 + 19_500,
    outcome: { type: 'exit', code: 3 },
  },
  { command: "sh -c 'exit 3'" },
);
const done = job(
  1,
  { type: 'done', node: 'node1', startedAt: T0, endedAt: T0 + 2000, outcome: { type: 'exit', code: 0 } },
  { command: 'hostname' },
);
const killed = job(
  5,
  {
    type: 'killed',
    node: 'node1',
    startedAt: T0,
    endedAt: T0 + 18_921,
    outcome: { type: 'signal', signal: 'SIGKILL' },
  },
  { attrs: 'big', memGB: 0.01 },
);
const lost = job(6, { type: 'done', node: 'node1', startedAt: T0, endedAt: T0 + 1, outcome: { type: 'lost' } });
const undone = job(7, { type: 'undone', endedAt: T0 + 500 }, { attrs: 'big or infiband', memGB: 0.01 });
const nodeFailed = job(8, { type: 'node_failed', node: 'node2', startedAt: T0, endedAt: T0 + 61_000 });

test('default format, as in the brief', () => {
  const now = T0 + 60_000;
  assert.equal(formatJob(failed, DEFAULT_CHECK_FORMAT, now), "3 (failed):sh -c 'exit 3' (on localhost; wd: /tmp/w; exit 3)\n");
  assert.equal(formatJob(running, DEFAULT_CHECK_FORMAT, now), '2 (running):sleep 30 (on localhost; wd: /tmp/w)\n');
  assert.equal(formatJob(queued, DEFAULT_CHECK_FORMAT, now), '4 (queue):sleep 30 (on None; wd: /tmp/w)\n');
  assert.equal(formatJob(done, DEFAULT_CHECK_FORMAT, now), '1 (done):hostname (on node1; wd: /tmp/w; exit 0)\n');
  assert.equal(formatJob(killed, DEFAULT_CHECK_FORMAT, now), '5 (killed):sleep 30 (on node1; wd: /tmp/w; signal KILL)\n');
  assert.equal(formatJob(lost, DEFAULT_CHECK_FORMAT, now), '6 (done):sleep 30 (on node1; wd: /tmp/w; lost)\n');
  assert.equal(formatJob(undone, DEFAULT_CHECK_FORMAT, now), '7 (undone):sleep 30 (on None; wd: /tmp/w)\n');
  assert.equal(formatJob(nodeFailed, DEFAULT_CHECK_FORMAT, now), '8 (node_failed):sleep 30 (on node2; wd: /tmp/w; node went down)\n');
  assert.equal(
    formatJob(nodeFailed, '%n|%A|%S|%E|%R|%x', now),
    'node2|node2|2024-01-02 03:04:05.678000|2024-01-02 03:05:06.678000|0:01:01|node went down',
  );
});

test('a named job: %J its name, %I " [NAME]"; the default line shows it, and is unchanged for a job without one', () => {
  const named = job(9, { type: 'queue' }, { name: 'fit [a]' });
  assert.equal(formatJob(named, DEFAULT_CHECK_FORMAT, T0), '9 [fit [a]] (queue):sleep 30 (on None; wd: /tmp/w)\n');
  assert.equal(formatJob(named, '%J|%I|%j', T0), 'fit [a]| [fit [a]]|9');
  assert.equal(formatJob(queued, '%J|%I|%j', T0), '||4');
});

test('the observed pipe-separated rows of §5.4', () => {
  const fmt = '%j|%s|%c|%d|%a|%N|%m|%n|%A|%K|%R';
  assert.equal(formatJob(killed, fmt, T0, '<note>'), '5|killed|sleep 30|/tmp/w|big|1|0.01|node1|node1|\n<note>|0:00:18');
  assert.equal(formatJob(undone, fmt, T0), '7|undone|sleep 30|/tmp/w|big or infiband|1|0.01|None|[big or infiband]||None');
});

test('times and %R per status', () => {
  const now = T0 + 90_061_000; // 1 day, 1:01:01 after queueing
  const fmt = '%Q|%S|%E|%R';
  assert.equal(formatJob(queued, fmt, now), '2024-01-02 03:04:05.678000|None|None|1 day, 1:01:01');
  assert.equal(formatJob(running, fmt, now), '2024-01-02 03:04:05.678000|2024-01-02 03:04:06.678000|None|1 day, 1:01:00');
  assert.equal(formatJob(failed, fmt, now), '2024-01-02 03:04:05.678000|2024-01-02 03:04:06.678000|2024-01-02 03:04:25.178000|0:00:18');
  assert.equal(formatJob(undone, fmt, now), '2024-01-02 03:04:05.678000|None|2024-01-02 03:04:06.178000|None');
  assert.equal(formatJob(queued, '%A|%a|%x|%e', now), '[]|||');
});

test('one left-to-right scan: inserted text is never re-expanded', () => {
  const tricky = job(9, { type: 'queue' }, { command: 'echo %d %j %%', cwd: '/a%s' });
  assert.equal(formatJob(tricky, '%c @ %d', T0), 'echo %d %j %% @ /a%s');
  assert.equal(formatJob(tricky, '%K', T0, '%j'), '\n%j');
});

test('%% escapes, unknown codes and a trailing % stay', () => {
  assert.equal(formatJob(queued, '100%% %z %j%', T0), '100% %z 4%');
  assert.equal(formatJob(queued, '%%j %%%j', T0), '%j %4');
  assert.equal(formatJob(queued, '', T0), '');
  assert.equal(formatJob(queued, 'plain', T0), 'plain');
  assert.equal(formatJob(queued, '%K|', T0), '|');
  assert.equal(formatJob(queued, '%K|', T0, ''), '|');
});

test('%N %m %a %A', () => {
  const j = job(8, { type: 'queue' }, { cores: 3, memGB: 10, attrs: 'amd and bigdisk' });
  assert.equal(formatJob(j, '%N %m %a %A', T0), '3 10.0 amd and bigdisk [amd and bigdisk]');
});

test('durations like timedelta without the fraction', () => {
  assert.equal(formatDuration(0), '0:00:00');
  assert.equal(formatDuration(999), '0:00:00');
  assert.equal(formatDuration(18_921), '0:00:18');
  assert.equal(formatDuration(3_600_000 * 25), '1 day, 1:00:00');
  assert.equal(formatDuration(86_400_000 * 3 + 59_000), '3 days, 0:00:59');
  assert.equal(formatDuration(10 * 3_600_000), '10:00:00');
  assert.equal(formatDuration(-5000), '-0:00:05');
});

test('times with six fraction digits in local time', () => {
  assert.equal(formatTime(Date.UTC(2023, 11, 31, 23, 59, 59, 0)), '2023-12-31 23:59:59.000000');
  assert.equal(formatTime(Date.UTC(2023, 0, 1) + 0.5), '2023-01-01 00:00:00.000500');
  assert.equal(formatTime(0), '1970-01-01 00:00:00.000000');
});

test('memory like Python float repr', () => {
  const cases: [number, string][] = [
    [5, '5.0'],
    [0.01, '0.01'],
    [0.1, '0.1'],
    [2.5, '2.5'],
    [100, '100.0'],
    [0, '0.0'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [1.5e16, '1.5e+16'],
    [1e15, '1000000000000000.0'],
    [123456.789, '123456.789'],
    [-3, '-3.0'],
    [1 / 3, '0.3333333333333333'],
  ];
  for (const [x, s] of cases) assert.equal(pyFloat(x), s, String(x));
});

test('outcomes', () => {
  assert.equal(formatOutcome({ type: 'exit', code: 0 }), 'exit 0');
  assert.equal(formatOutcome({ type: 'signal', signal: 'TERM' }), 'signal TERM');
  assert.equal(formatOutcome({ type: 'signal', signal: 'SIGINT' }), 'signal INT');
  assert.equal(formatOutcome({ type: 'lost' }), 'lost');
});

test('formatCheck concatenates, applies notes and the paused line', () => {
  const fmt = '%j%K\n';
  assert.equal(formatCheck([done, queued], fmt, T0, false), '1\n4\n');
  assert.equal(formatCheck([done, queued], fmt, T0, true, new Map([[4, 'hi']])), '1\n4\nhi\nJob submission is paused.\n');
  assert.equal(formatCheck([], fmt, T0, false), '');
  assert.equal(formatCheck([], fmt, T0, true), 'Job submission is paused.\n');
});

test('what a run used: %W %U %M %C %P, None until it ended and where not measured', () => {
  const usage = { userMs: 3_210, sysMs: 790, peakKB: 1_572_864 };
  const measured = job(
    9,
    { type: 'done', node: 'node1', startedAt: T0, endedAt: T0 + 5_000, outcome: { type: 'exit', code: 0 }, usage },
    { cores: 2, memGB: 3 },
  );
  assert.equal(formatJob(measured, '%W|%U|%M|%C|%P', T0), '0:00:05|0:00:04.00|1.50G|40.0%|50.0%');
  const noPeak = job(10, { ...measured.state, usage: { userMs: 5, sysMs: 0 } } as JobState, { memGB: 0 });
  assert.equal(formatJob(noPeak, '%U|%M|%C|%P', T0), '0:00:00.00|None|0.1%|None', 'no sample; no memory requested');
  assert.equal(formatJob(running, '%W|%U|%M|%C|%P', T0 + 61_000), '0:01:00|None|None|None|None', 'so far, while it runs');
  assert.equal(formatJob(done, '%W|%U|%M', T0), '0:00:02|None|None', 'ended before usage was measured');
  assert.equal(formatJob(queued, '%W|%U', T0), 'None|None');
  assert.equal(formatJob(nodeFailed, '%W|%U', T0), '0:01:01|None');
});
