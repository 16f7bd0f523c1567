/** Run files as the agent and the wrapper write them, parsed (run-files.ts): pure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunFile, parseStatus } from '../../../src/executor/run-files.js';

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
  assert.deepEqual(parseStatus('error output\n'), {
    outcome: { type: 'exit', code: 126 },
    error:
      'cannot create its output files (job_<ID>.out / .err, or those --out / --err name): is their directory missing, or not writable?',
  });
  assert.equal(parseStatus('exit 3'), null);
  assert.equal(parseStatus(''), null);
  assert.equal(parseStatus('bogus\n')?.outcome.type, 'lost');
});
