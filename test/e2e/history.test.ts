/**
 * `qpy history` with a real master: runs that ended stay listed after
 * `clean` (retries one row per attempt, a killed queued array one row), the
 * filters, `--json` and `--format`, pruning to `historyJobs`; a master SIGKILLed right after a job
 * ended still has it in history once it restarts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkStatuses, qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

type Doc = { qpy: number; history: { id: number; status: string; last?: number; spec: { cwd: string } }[] };

test('history lists what ended, after clean too, with status, ID, directory and time filters', { timeout: 90_000 }, async () => {
  await using u = qpyUser({ nodes: 'localhost cores=2 memory=16\n', env: { QPY_HISTORY_PRUNE_MS: '200' } });
  const other = join(u.work, 'other');
  mkdirSync(other);
  await u.ok(['sub', 'true']); // 1
  await u.ok(['sub', '--retry', '1', 'exit 3']); // 2: two failed runs
  await u.ok(['sub', 'true'], other); // 3
  await waitFor(
    async () => {
      const m = checkStatuses(await u.ok(['check']));
      return m.get(1)?.status === 'done' && m.get(2)?.status === 'failed' && m.get(3)?.status === 'done';
    },
    { what: 'jobs 1-3 ended' },
  );
  // A held array of 5, killed while queued: one record for its run of IDs.
  await u.ok(['ctrlQueue', 'pause']);
  await u.ok(['sub', '--array', '1-5', 'true']); // 4-8
  await u.ok(['kill', '4-8']);
  await u.ok(['ctrlQueue', 'continue']);
  assert.match(await u.ok(['clean', 'all']), /finished jobs removed/);
  assert.equal(await u.ok(['check']), '');

  const doc = JSON.parse(await u.ok(['history', '--json'])) as Doc;
  assert.equal(doc.qpy, 1);
  // In the order the runs ended: jobs 1 and 2 run side by side, so by ID here.
  assert.deepEqual(
    doc.history.map((r) => [r.id, r.status, r.last]).sort((a, b) => Number(a[0]) - Number(b[0])),
    [
      [1, 'done', undefined],
      [2, 'failed', undefined],
      [2, 'failed', undefined],
      [3, 'done', undefined],
      [4, 'undone', 8],
    ],
  );
  const ids = (out: string) =>
    out
      .trimEnd()
      .split('\n')
      .filter((l) => l !== '');
  assert.deepEqual(ids(await u.ok(['history', 'failed', '--format', '%j %s'])), ['2 failed', '2 failed']);
  assert.deepEqual(ids(await u.ok(['history', other, '--format', '%j'])), ['3']);
  assert.deepEqual(ids(await u.ok(['history', '3,6', '--format', '%j %s'])), ['3 done', '4-8 undone']);
  assert.deepEqual(ids(await u.ok(['history', 'done', '2', '--format', '%j'])), ['1', '2', '2', '3']);
  assert.equal((await u.ok(['history', '--since', '1h', '--format', '%j'])).split('\n').length - 1, 5);
  assert.equal(await u.ok(['history', '--until', '1h']), '');
  assert.equal(await u.ok(['history', '--since', '2100-01-01']), '');
  assert.match(await u.ok(['history', '1']), /^1 \(done\):true \(on localhost; wd: .*; ended \d{4}-\d\d-\d\d [\d:.]+; exit 0\)\n$/);
  assert.match(await u.ok(['history', '2']), /exit 3\)\n.*exit 3; attempt 2\)\n$/);
  // Fewer records kept: the oldest go, in the background.
  assert.match(await u.ok(['config', 'historyJobs', '2']), /historyJobs set to 2/);
  assert.match(await u.ok(['config']), /History kept: 90 days, at most 2 records/);
  await waitFor(async () => (await u.ok(['history', '--format', '%j'])) === '3\n4-8\n', { what: 'history pruned to the newest 2' });
});

test('a master SIGKILLed right after a job ended still has it in history after restart', { timeout: 60_000 }, async () => {
  await using u = qpyUser();
  await u.ok(['sub', 'sleep 0.3; touch ended']);
  // The moment the job's command is done, before its end can have been committed (a 20 ms window), or just after.
  await waitFor(() => existsSync(join(u.work, 'ended')), { what: 'the job ended', intervalMs: 2 });
  u.killMaster();
  // The next command starts a new master, which adopts the job and records its end.
  await waitFor(async () => /^1 \(done\)/.test(await u.ok(['history', '--format', '%j (%s)'])), { what: 'job 1 in history' });
  await u.ok(['clean', 'all']);
  assert.equal(await u.ok(['history', '--format', '%j (%s)']), '1 (done)\n');
});
