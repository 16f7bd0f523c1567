/** The run tracker's verdict on a watched job from what its agent found (agent-queries.ts verdict): pure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verdict, type Checked } from '../../../src/executor/agent-queries.js';
import { parseRunFile } from '../../../src/executor/run-files.js';

const job = (pid = 40, signalSent: 'TERM' | 'KILL' | null = null) => ({ pid, signalSent });
const found = (state: Checked['state'], file: string | null, status?: number): Checked =>
  status === undefined
    ? { state, file: file === null ? null : parseRunFile(file) }
    : { state, file: file === null ? null : parseRunFile(file), status };

test('a recorded status wins, whatever the liveness', () => {
  assert.deepEqual(verdict(job(), found('alive', '40\nexit 3\n')), { outcome: { type: 'exit', code: 3 } });
  assert.deepEqual(verdict(job(), found('gone', '40\nexit 137\n', 0)), { outcome: { type: 'signal', signal: 'KILL' } });
});

test('a live wrapper, or an unclaimed launch whose process has not exec’d yet, is still running', () => {
  assert.equal(verdict(job(), found('alive', '40\n')), null);
  assert.equal(verdict(job(), found('other', null)), null);
  assert.equal(verdict(job(0), found('gone', null)), null, 'pid not known yet');
});

test('a job (or wrapper) gone without a status: its wait status, else the signal sent, else lost', () => {
  assert.deepEqual(verdict(job(), found('gone', '40\n', 137)), { outcome: { type: 'signal', signal: 'KILL' } });
  assert.deepEqual(verdict(job(), found('gone', '40 123456\n', 143)), { outcome: { type: 'signal', signal: 'TERM' } });
  assert.deepEqual(verdict(job(40, 'KILL'), found('gone', '40\n')), { outcome: { type: 'signal', signal: 'KILL' } });
  assert.deepEqual(verdict(job(), found('gone', '40\n')), { outcome: { type: 'lost' } });
  assert.deepEqual(verdict(job(), found('other', '40\n')), { outcome: { type: 'lost' } }, 'its pid now belongs to another process');
  assert.deepEqual(verdict(job(), found('gone', null)), { outcome: { type: 'lost' } }, 'died before it could claim');
});
