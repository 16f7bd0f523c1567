/** The master's `qpy wait` registry (src/daemons/master/waits.ts): replies once every job is final, and which end unblocks one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWaits } from '../../src/daemons/master/waits.js';

test('waits: resolves when the last pending job is final; awaitsOnly names the job that would unblock a reply', async () => {
  const w = createWaits();
  let done = false;
  const p = w.until([1, 2]).then(() => (done = true));
  assert.equal(w.awaitsOnly(1), false, 'two jobs left: the end of one answers nothing');
  w.final(1);
  assert.equal(w.awaitsOnly(2), true);
  assert.equal(w.awaitsOnly(1), false);
  await Promise.resolve();
  assert.equal(done, false);
  w.final(2);
  await p;
  assert.equal(done, true);
  assert.equal(w.awaitsOnly(2), false, 'answered: no longer waited for');
  await w.until([]); // nothing pending: at once
});
