/** The master's `qpy wait` registry (src/daemons/master/waits.ts): replies once every job is final, and which end unblocks one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWaits } from '../../src/daemons/master/waits.js';

test('waits: resolves when the last pending job is final; written names the end that would unblock a reply', async () => {
  const w = createWaits();
  let done = false;
  const p = w.until([1, 2]).then(() => (done = true));
  assert.equal(w.written(1), false, 'two jobs left: the end of one answers nothing');
  w.final(1);
  assert.equal(w.written(2), true, 'the last one left');
  await Promise.resolve();
  assert.equal(done, false, 'written is not committed');
  w.final(2);
  await p;
  assert.equal(done, true);
  assert.equal(w.written(2), false, 'answered: no longer waited for');
  await w.until([]); // nothing pending: at once
});

test('waits: jobs whose ends are written in one commit window unblock a reply together, counted once each', async () => {
  const w = createWaits();
  let done = false;
  const p = w.until([1, 2, 3]).then(() => (done = true));
  const other = w.until([3, 4]);
  assert.equal(w.written(1), false);
  assert.equal(w.written(1), false, 'written twice: still one job');
  assert.equal(w.written(2), false, 'job 3 is still running');
  assert.equal(w.written(9), false, 'no one waits for job 9');
  assert.equal(w.written(3), true, 'all three written: their commit answers the first request');
  for (const id of [1, 2, 3]) w.final(id);
  await p;
  assert.equal(done, true);
  assert.equal(w.written(4), true, 'the other request now waits for job 4 alone');
  w.final(4);
  await other;
});
