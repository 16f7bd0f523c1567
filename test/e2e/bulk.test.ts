/** `sub --array A-B%N`, `check --groups` and `qpy load` through the installed CLI: one transaction, the cap honoured, the index passed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QPY, checkStatuses, qpyUser } from '../helpers/qpy.js';
import type { GroupSummary, Job } from '../../src/protocol/job.js';
import { waitFor } from '../helpers/wait.js';

test('an array of 1,000 capped at %10 never runs more than 10 at once; every index once; QPY_ARRAY_ID/INDEX set; check --groups', {
  timeout: 120_000,
}, async () => {
  await using u = qpyUser({ nodes: 'big address=localhost cores=16 memory=64\n' });
  const cmd = 'echo "$QPY_ARRAY_ID $QPY_ARRAY_INDEX" > idx.$QPY_ARRAY_INDEX; sleep 0.05';
  const out = await u.ok(['sub', '-m', '0.1', '--array', '11-1010%10', cmd]);
  assert.equal(out, 'Jobs 1-1000 received (array 1).\n');
  let most = 0;
  await waitFor(
    async () => {
      const g = (JSON.parse(await u.ok(['check', '--groups', '--json'])) as { groups: GroupSummary[] }).groups[0]!;
      most = Math.max(most, g.counts.find(([s]) => s === 'running')?.[1] ?? 0);
      return g.counts.length === 1 && g.counts[0]![0] === 'done';
    },
    { what: 'all 1000 done', timeoutMs: 100_000, intervalMs: 50 },
  );
  assert.ok(most <= 10, `${most} ran at once`);
  assert.ok(most >= 5, 'the cap, not one at a time');
  const files = readdirSync(u.work).filter((f) => f.startsWith('idx.'));
  assert.equal(files.length, 1000);
  assert.equal(readFileSync(join(u.work, 'idx.37'), 'utf8'), '1 37\n');
  assert.equal(await u.ok(['check', '--groups']), `array 1 (jobs 1-1000, indices 11-1010, at most 10 at once): 1000 done: ${cmd}\n`);
  // The array's ID names the whole array.
  await u.ok(['sub', '--afterok', '1', 'true']);
  const dependent = JSON.parse(await u.ok(['check', '--json', '1001'])) as { jobs: Job[] };
  assert.deepEqual(dependent.jobs[0]!.spec.afterok, [[1, 1000]]);
  const bad = await u.qpy(['sub', '--array', '5-2', 'true']);
  assert.deepEqual(
    [bad.code, bad.stderr],
    [1, "qpy: --array needs FIRST-LAST[%MAX] (e.g. 1-1000%50, at most 2,000,000 jobs), not '5-2'\n"],
  );
});

test('load: a file of commands (blank and # lines skipped) and standard input, each in one transaction', { timeout: 60_000 }, async () => {
  await using u = qpyUser();
  writeFileSync(join(u.work, 'cmds'), '# my runs\necho a > a\n\necho b > b\necho "$QPY_ARRAY_INDEX" > c\n');
  assert.equal(await u.ok(['load', '-m', '0.1', 'cmds']), 'Jobs 1-3 received (load 1, 3 jobs).\n');
  const viaStdin = await new Promise<string>((resolve, reject) => {
    const p = execFile(QPY, ['load', '-'], { cwd: u.work, env: u.env }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    p.stdin!.end('echo d > d\necho e > e\n');
  });
  assert.equal(viaStdin, 'Jobs 4-5 received (load 4, 2 jobs).\n');
  await waitFor(async () => [...checkStatuses(await u.ok(['check'])).values()].every((j) => j.status === 'done'), {
    what: 'all loaded jobs done',
  });
  assert.equal(readFileSync(join(u.work, 'c'), 'utf8'), '3\n');
  assert.equal(readFileSync(join(u.work, 'e'), 'utf8'), 'e\n');
  const none = await u.qpy(['load', 'missing']);
  assert.deepEqual([none.code, none.stderr], [1, 'qpy: cannot read missing: ENOENT\n']);
});
