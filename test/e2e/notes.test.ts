/** `qpy notes` through the installed CLI: list, add, show, kept across a restart, removed by clean. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

test('notes: none, add two to a job, show them, survive a restart, go with clean', { timeout: 60_000 }, async () => {
  await using u = qpyUser();
  assert.equal(await u.ok(['notes']), 'You have no notes.\n');
  await u.ok(['sub', 'true']);
  await u.ok(['sub', 'true']);
  assert.equal(await u.ok(['notes', '2', 'first', 'try']), 'Note stored.\n');
  assert.equal(await u.ok(['notes', '2', 'two\nlines']), 'Note stored.\n');
  assert.equal(await u.ok(['notes', '1', 'x']), 'Note stored.\n');
  assert.equal(await u.ok(['notes']), 'You have notes for the following jobs:\n1 2 \n');
  const shown = await u.ok(['notes', '2']);
  assert.match(
    shown,
    /^----- Note added at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}:\nfirst try\n\n----- Note added at [^\n]+:\ntwo\nlines\n\n\n$/,
  );
  assert.equal(
    await u.ok(['notes', '3']).catch((e: Error) => e.message),
    'qpy notes 3 exited 1: qpy: No job 3. (see your jobs with: qpy check)\n',
  );
  const bad = await u.qpy(['notes', 'x1']);
  assert.deepEqual([bad.code, bad.stderr], [1, 'qpy: "x1" is not a job ID\n']);
  await u.ok(['restart']);
  assert.equal(await u.ok(['notes', '2']), shown, 'kept across a restart');
  await waitFor(async () => !/running|queue/.test(await u.ok(['check'])), { what: 'jobs done' });
  await u.ok(['clean', '2']);
  assert.equal(await u.ok(['notes']), 'You have notes for the following jobs:\n1 \n');
});
