/** `sub --priority`, `hold` and `release` through the installed CLI, on one core: the order jobs start in, kept across a restart. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkStatuses, qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

test('priorities reorder the queue (ties in submission order), a held job waits until released, both kept across a restart', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser({ nodes: 'one address=localhost cores=1 memory=16\n' });
  await u.ok(['ctrlQueue', 'pause']);
  const sub = (p: string | null, name: string) =>
    u.ok(['sub', ...(p === null ? [] : ['--priority', p]), '-m', '1', `echo ${name} >> order`]);
  await sub(null, 'a'); // 1
  await sub('5', 'b'); // 2
  await sub(null, 'c'); // 3
  await sub('5', 'd'); // 4
  await sub('-1', 'e'); // 5
  await sub(null, 'f'); // 6
  assert.deepEqual([...checkStatuses(await u.ok(['check'])).keys()], [2, 4, 1, 3, 6, 5]);
  assert.equal(await u.ok(['hold', '3', '99']), '1 job held.\n');
  assert.match(await u.ok(['check', '3']), /^3 \(queue\):echo c >> order \(on None; wd: [^;]+; held\)$/m);
  const none = await u.qpy(['hold', '3']);
  assert.deepEqual(
    [none.code, none.stderr],
    [1, 'qpy: Nothing to do: no queued job to be held among those IDs. (only queued jobs can be held or released)\n'],
  );
  await u.ok(['restart']);
  assert.deepEqual([...checkStatuses(await u.ok(['check'])).keys()], [2, 4, 1, 3, 6, 5], 'the order kept');
  assert.match(await u.ok(['check', '3']), /; held\)$/m, 'the hold kept');
  await u.ok(['ctrlQueue', 'continue']);
  await waitFor(async () => [...checkStatuses(await u.ok(['check'])).values()].filter((j) => j.status === 'done').length === 5, {
    what: 'all but the held job done',
  });
  assert.equal(checkStatuses(await u.ok(['check'])).get(3)?.status, 'queue', 'the held job never started');
  assert.equal(readFileSync(join(u.work, 'order'), 'utf8'), 'b\nd\na\nf\ne\n');
  assert.equal(await u.ok(['release', '3']), '1 job released.\n');
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(3)?.status === 'done', { what: 'the released job done' });
  const bad = await u.qpy(['sub', '--priority', 'high', 'true']);
  assert.deepEqual([bad.code, bad.stderr], [1, "qpy: --priority needs a whole number, not 'high'\n"]);
});
