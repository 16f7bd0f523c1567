/** `sub --retry`, `qpy retry` and `qpy rerun --force` through the installed CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkStatuses, qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';
import { jobSchema } from '../../src/protocol/job.js';

test('--retry 2 on a job that fails twice then succeeds; retry and rerun under the same ID, every attempt kept', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser();
  // Fails on attempts 1 and 2, succeeds on 3.
  await u.ok(['sub', '--retry', '2', 'echo "run $QPY_ATTEMPT" >> runs; [ "$QPY_ATTEMPT" = 3 ]']); // 1
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(1)?.status === 'done', { what: 'job 1 done at last' });
  assert.equal(readFileSync(join(u.work, 'runs'), 'utf8'), 'run 1\nrun 2\nrun 3\n');
  assert.match(await u.ok(['check', '1']), /; exit 0; attempt 3\)$/m);
  const doc = JSON.parse(await u.ok(['check', '--json', '1'])) as { jobs: Record<string, unknown>[] };
  const { status: shown, ...stored } = doc.jobs[0]!; // check --json adds the status it shows to each job
  assert.equal(shown, 'done');
  const job = jobSchema(stored, '$');
  assert.deepEqual(
    job.attempts?.map((a) => [a.status, a.outcome]),
    [
      ['failed', { type: 'exit', code: 1 }],
      ['failed', { type: 'exit', code: 1 }],
    ],
  );

  await u.ok(['sub', '--retry', '1', 'exit 5']); // 2: fails twice, stays failed
  await u.ok(['sub', 'echo once >> once']); // 3
  await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return m.get(2)?.status === 'failed' && m.get(3)?.status === 'done';
    },
    { what: 'jobs 2 and 3 ended' },
  );
  assert.match(await u.ok(['check', '2']), /; exit 5; attempt 2\)$/m);

  assert.equal(await u.ok(['retry', 'failed']), '1 job queued again.\n');
  await waitFor(async () => /2 \(failed\).*attempt 3/.test(await u.ok(['check', '2'])), { what: 'job 2 failed again, attempt 3' });
  const none = await u.qpy(['retry', '3']);
  assert.deepEqual([none.code, none.stderr], [1, 'qpy: Nothing to do: no failed job to retry.\n']);
  const noForce = await u.qpy(['rerun', '3']);
  assert.equal(noForce.code, 1);
  assert.match(noForce.stderr, /add --force to confirm/);
  assert.equal(await u.ok(['rerun', '3', '--force']), '1 job queued again.\n');
  await waitFor(async () => /3 \(done\).*attempt 2/.test(await u.ok(['check', '3'])), { what: 'job 3 ran again' });
  assert.equal(readFileSync(join(u.work, 'once'), 'utf8'), 'once\nonce\n');
});
