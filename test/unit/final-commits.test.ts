/**
 * The master's committer wrapper (src/daemons/master/final-commits.ts): a
 * job's final state waits for the lazy commit window, unless a `qpy wait`
 * (or `sub -W`) then waits only for ends already written: those commit at
 * once, and the reply follows their commit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Committer } from '../../src/store/group-commit.js';
import { onFinalCommitted } from '../../src/daemons/master/final-commits.js';
import { createWaits } from '../../src/daemons/master/waits.js';
import { job } from './master/fixtures.js';

/** A committer that records which commit each write asked for, and commits when told. */
function recorder() {
  const asked: string[] = [];
  let pending: (() => void)[] = [];
  const later = (kind: string) => {
    asked.push(kind);
    return new Promise<void>((resolve) => pending.push(resolve));
  };
  const c = {
    putJob: () => undefined,
    putHistory: () => undefined,
    flush: () => later('now'),
    flushSoon: () => later('soon'),
  } as unknown as Committer;
  const commit = async () => {
    const p = pending;
    pending = [];
    for (const r of p) r();
    await new Promise((r) => setImmediate(r));
  };
  return { c, asked, commit };
}

test('final commits: ends no reply waits for take the lazy window; the ends that complete a wait commit at once', async () => {
  const { c, asked, commit } = recorder();
  const waits = createWaits();
  const wrapped = onFinalCommitted(c, waits, { get: () => undefined, runEnd: (id) => id });
  let answered = false;
  const reply = waits.until([1, 2]).then(() => (answered = true));
  wrapped.putJob(job(9, 'done'), null);
  wrapped.putJob(job(1, 'done'), null);
  wrapped.putJob(job(3, 'running'), 'keep');
  assert.deepEqual(asked, ['soon', 'soon'], 'job 9 is waited for by no one; job 1 leaves job 2; a running job commits nothing');
  wrapped.putJob(job(2, 'failed'), null);
  assert.deepEqual(asked, ['soon', 'soon', 'now'], 'jobs 1 and 2 written: all the reply waits for');
  assert.equal(answered, false, 'not before the commit');
  await commit();
  await reply;
  assert.equal(answered, true);
});
