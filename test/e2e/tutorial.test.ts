/** `qpy tutorial` and `qpy-admin tutorial` when not on a terminal: the guide from the first match, printed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qpyUser, run } from '../helpers/qpy.js';
import { QPY_ADMIN } from '../helpers/multiuser.js';

test('tutorial: a command’s section, the first match of words, the whole guide, and a clear miss', async () => {
  await using u = qpyUser();
  assert.match(await u.ok(['tutorial']), /^# qpy user guide\n/);
  assert.match(await u.ok(['tutorial', 'kill']), /^### `qpy kill`: stop jobs\n/);
  assert.match(await u.ok(['tutorial', 'ctrlQueue']), /^### `qpy ctrlQueue`: pause, continue, reorder\n/);
  assert.match(await u.ok(['tutorial', 'node', 'went', 'down']), /node went down/i);
  const miss = await u.qpy(['tutorial', 'zzzz-nothing']);
  assert.deepEqual([miss.code, miss.stderr], [1, 'qpy: "zzzz-nothing" is not in the guide (try a command name, e.g. qpy tutorial sub)\n']);
  const adminGuide = await run(QPY_ADMIN, ['tutorial', 'drain'], u.work, u.env);
  assert.equal(adminGuide.code, 0);
  assert.match(adminGuide.stdout, /drain/);
  assert.match((await run(QPY_ADMIN, ['tutorial'], u.work, u.env)).stdout, /^# qpy administrator guide\n/);
});
