/** Run files as the agent and the wrapper write them, and their end notices, parsed (run-files.ts, wrapper.ts): pure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunFile, parseStatus } from '../../../src/executor/run-files.js';
import { parseEndNotice } from '../../../src/executor/wrapper.js';

test('a claim is a pid, with the start time a waiting agent adds, or none; anything else is not a claim yet', () => {
  assert.deepEqual(parseRunFile('4321 987654\n'), { kind: 'pid', pid: 4321, end: null });
  assert.deepEqual(parseRunFile('4321\n'), { kind: 'pid', pid: 4321, end: null }, 'a wrapper’s claim');
  assert.deepEqual(parseRunFile('none\nexit 125\n'), { kind: 'none' }, 'a blocked launch, whatever follows');
  assert.deepEqual(parseRunFile('4321 98'), { kind: 'incomplete' }, 'no newline yet');
  for (const bad of ['1\n', 'x\n', '12 ab\n', '12 3 4\n', ' 12\n']) assert.deepEqual(parseRunFile(bad), { kind: 'incomplete' }, bad);
});

test('the first status line counts: a job’s own error line beats the exit its agent appends after it', () => {
  assert.deepEqual(parseRunFile('40 7\nerror cwd-missing\nexit 126\n'), {
    kind: 'pid',
    pid: 40,
    end: { outcome: { type: 'exit', code: 126 }, error: 'job directory does not exist' },
  });
  assert.deepEqual(parseRunFile('40 7\nexit 3\n'), { kind: 'pid', pid: 40, end: { outcome: { type: 'exit', code: 3 } } });
  assert.deepEqual(parseRunFile('40 7\nexit 3'), { kind: 'pid', pid: 40, end: null }, 'a status line counts once whole');
});

test('a status line: exit, a signal as 128+N, the time limit’s mark, a setup error, or corrupt', () => {
  assert.deepEqual(parseStatus('exit 0\n'), { outcome: { type: 'exit', code: 0 } });
  assert.deepEqual(parseStatus('exit 137\n'), { outcome: { type: 'signal', signal: 'KILL' } });
  assert.deepEqual(parseStatus('exit 143 time\n'), { outcome: { type: 'signal', signal: 'TERM' }, limit: 'time' });
  assert.deepEqual(parseStatus('exit 0 time\n'), { outcome: { type: 'exit', code: 0 }, limit: 'time' }, 'ended at its limit, however');
  for (const limit of ['memory', 'cgroup', 'oom'] as const)
    assert.deepEqual(parseStatus(`exit 137 ${limit}\n`), { outcome: { type: 'signal', signal: 'KILL' }, limit });
  assert.deepEqual(parseStatus('exit 137 bogus\n'), { outcome: { type: 'signal', signal: 'KILL' } }, 'an unknown word is no limit');
  assert.deepEqual(parseStatus('error output\n'), {
    outcome: { type: 'exit', code: 126 },
    error:
      'cannot create its output files (job_<ID>.out / .err, or those --out / --err name): is their directory missing, or not writable?',
  });
  assert.equal(parseStatus('exit 3'), null);
  assert.equal(parseStatus(''), null);
  assert.equal(parseStatus('bogus\n')?.outcome.type, 'lost');
});

test('usage: the agent’s line before its exit, a wrapper’s `times` lines, or none in an older file', () => {
  const exit0 = { outcome: { type: 'exit', code: 0 } };
  assert.deepEqual(parseRunFile('40 7\nusage 1500 20 61440\nexit 0\n'), {
    kind: 'pid',
    pid: 40,
    end: { ...exit0, usage: { userMs: 1500, sysMs: 20, peakKB: 61440 } },
  });
  assert.deepEqual(
    parseRunFile('40 7\nusage 3 0\nexit 0\n'),
    {
      kind: 'pid',
      pid: 40,
      end: { ...exit0, usage: { userMs: 3, sysMs: 0 } },
    },
    'no peak: never sampled',
  );
  assert.deepEqual(parseRunFile('40 7\nexit 0\n'), { kind: 'pid', pid: 40, end: exit0 }, 'a run file from before usage');
  assert.deepEqual(parseRunFile('40 7\nusage 1500 20 61440\n'), { kind: 'pid', pid: 40, end: null }, 'usage alone is no end');
  assert.deepEqual(parseRunFile('40 7\nusage 1500 20 61440\nexit 14'), { kind: 'pid', pid: 40, end: null }, 'nor a half status');
  assert.deepEqual(parseRunFile('40 7\nerror cwd-missing\nusage 0 0\nexit 126\n'), {
    kind: 'pid',
    pid: 40,
    end: { outcome: { type: 'exit', code: 126 }, error: 'job directory does not exist', usage: { userMs: 0, sysMs: 0 } },
  });
  assert.deepEqual(
    parseRunFile('40\n0m0.000000s 0m0.004000s\n1m2.345678s 0m0.010000s\nexit 0\n'),
    {
      kind: 'pid',
      pid: 40,
      end: { ...exit0, usage: { userMs: 62_345, sysMs: 10 } },
    },
    'dash’s times: the second line is the children’s',
  );
  assert.deepEqual(
    parseRunFile('40\n0m0.001s 0m0.000s\n0m1.5s 0m0.000s\nexit 0\n'),
    {
      kind: 'pid',
      pid: 40,
      end: { ...exit0, usage: { userMs: 1500, sysMs: 0 } },
    },
    'bash’s times, and a short fraction',
  );
  assert.deepEqual(parseRunFile('40\n0m0.001s 0m0.000s\nexit 0\n'), { kind: 'pid', pid: 40, end: exit0 }, 'one times line: none');
  assert.deepEqual(
    parseRunFile('40 7\nusage x 1\nexit 0\n'),
    {
      kind: 'pid',
      pid: 40,
      end: { outcome: { type: 'lost' }, error: 'corrupt status line "usage x 1\\n"' },
    },
    'a bad usage line is a corrupt status',
  );
});

test('end notices: status, limit, and the usage an agent or a wrapper adds', () => {
  assert.deepEqual(parseEndNotice('E 12 0'), { key: '12', status: 0 });
  assert.deepEqual(parseEndNotice('E 12.a1 143 time 1500 20 61440'), {
    key: '12.a1',
    status: 143,
    limit: 'time',
    usage: { userMs: 1500, sysMs: 20, peakKB: 61440 },
  });
  assert.deepEqual(parseEndNotice('E 12 0 7 1'), { key: '12', status: 0, usage: { userMs: 7, sysMs: 1 } });
  assert.deepEqual(parseEndNotice('E 12 137 oom 7 1'), { key: '12', status: 137, limit: 'oom', usage: { userMs: 7, sysMs: 1 } });
  assert.deepEqual(parseEndNotice('E 12 137 cgroup'), { key: '12', status: 137, limit: 'cgroup' });
  assert.deepEqual(parseEndNotice('E 12 0 0m1.500000s 0m0.004000s'), { key: '12', status: 0, usage: { userMs: 1500, sysMs: 4 } });
  for (const bad of ['E 12 0 7', 'E 12 0 1 2 3 4', 'E 12 0 0m1.5s', 'E 12 0 x y z']) assert.equal(parseEndNotice(bad), null, bad);
});
