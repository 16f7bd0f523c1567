/** `sub --after` / `--afterok` through the installed CLI: a chain where A fails leaves B undone with its reason; --after runs anyway; unknown IDs refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkStatuses, qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

test('dependencies: afterok on a failed job is undone with the reason, after runs anyway, check shows the wait', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser();
  await u.ok(['sub', 'while [ ! -e go ]; do sleep 0.05; done; exit 3']); // 1 (fails)
  await u.ok(['sub', '--afterok', '1', 'echo B > b']); // 2
  await u.ok(['sub', '--after', '1', 'echo C > c']); // 3
  await u.ok(['sub', '--afterok', '2', 'echo D > d']); // 4: needs 2, which will never run
  const waiting = await u.ok(['check', '2-4']);
  assert.match(waiting, /^2 \(queue\):echo B > b \(on None; wd: [^;]+; afterok 1\)$/m);
  assert.match(waiting, /^3 \(queue\):.*; after 1\)$/m);
  const bad = await u.qpy(['sub', '--after', '1,40-41', 'true']);
  assert.deepEqual([bad.code, bad.stderr], [1, 'qpy: --after: no job 40-41 (see your jobs with: qpy check)\n']);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(u.work, 'go'), '');
  const done = await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return m.get(3)?.status === 'done' && m.get(4)?.status === 'undone' ? m : null;
    },
    { what: 'the chain settled' },
  );
  assert.equal(done.get(1)?.status, 'failed');
  assert.match(done.get(2)!.line, /^2 \(undone\):echo B > b \(on None; wd: [^;]+; job 1 ended failed\)$/);
  assert.match(done.get(4)!.line, /; job 2 never ran\)$/);
  assert.equal(readFileSync(join(u.work, 'c'), 'utf8'), 'C\n');
});
