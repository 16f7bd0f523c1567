/**
 * What `qpy sub` runs, exactly: quoting kept, directories with spaces and
 * quotes, #QPY directives (flags win), the QPY_* environment, and check's
 * filters (status words, ID lists, directories; OR-combined).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

const settled = (out: string) => out !== '' && !/\((queue|running)\)/.test(out);

test('quoting, odd directories, environment and directives', { timeout: 60_000 }, async () => {
  await using u = qpyUser({ nodes: 'localhost cores=4 memory=32 attributes=big\n' });
  const odd = join(u.work, `a dir/it's "quoted" $HOME`);
  mkdirSync(odd, { recursive: true });
  // Several words: passed exactly (two spaces kept, no expansion of $HOME).
  assert.equal(await u.ok(['sub', '-m', '0.1', 'printf', '%s|', 'a  b', '$HOME'], odd), 'Job 1 received.\n');
  // One word: a shell command line.
  assert.equal(await u.ok(['sub', '-m', '0.1', 'echo "$QPY_JOB_ID $QPY_NODE $QPY_N_CORES $QPY_MEM" && pwd'], odd), 'Job 2 received.\n');
  // A script with directives; -m on the command line wins over the directive.
  writeFileSync(join(u.work, 'script.sh'), '#!/bin/sh\n#QPY n_cores=2\n#QPY mem=0.5\n#QPY node_attr=big\necho "$QPY_N_CORES $QPY_MEM"\n', {
    mode: 0o755,
  });
  assert.equal(await u.ok(['sub', '-m', '0.25', './script.sh']), 'Job 3 received.\n');
  writeFileSync(join(u.work, 'bad.sh'), '#!/bin/sh\n#QPY n_cores=two\n', { mode: 0o755 });
  const bad = await u.qpy(['sub', './bad.sh']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /bad\.sh, line 2: Invalid value for n_cores: two/);

  await waitFor(async () => settled(await u.ok(['check'])), { what: 'jobs settled' });
  assert.equal(readFileSync(join(odd, 'job_1.out'), 'utf8'), 'a  b|$HOME|');
  assert.equal(readFileSync(join(odd, 'job_2.out'), 'utf8'), `2 localhost 1 0.1\n${odd}\n`);
  assert.equal(readFileSync(join(u.work, 'job_3.out'), 'utf8'), '2 0.25\n');
  const out = await u.ok(['check']);
  assert.match(out, /^1 \(done\):printf '%s\|' 'a {2}b' '\$HOME' \(on localhost; wd: .*a dir\/it's "quoted" \$HOME; exit 0\)$/m);
});

test('check filters: status words, ID lists and directories, OR-combined', { timeout: 60_000 }, async () => {
  await using u = qpyUser({ nodes: 'localhost cores=4 memory=32\n' });
  const other = join(u.work, 'other');
  mkdirSync(other);
  for (let i = 0; i < 5; i++) await u.ok(['sub', '-m', '0.1', `exit ${i % 2}`]);
  await u.ok(['sub', '-m', '0.1', 'true'], other);
  await waitFor(async () => settled(await u.ok(['check'])) && (await u.ok(['check'])).split('\n').length === 7, {
    what: 'six jobs settled',
  });
  const ids = (out: string) =>
    out
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => Number(l.split(' ')[0]));
  assert.deepEqual(ids(await u.ok(['check', 'failed'])), [2, 4]);
  assert.deepEqual(ids(await u.ok(['check', '1-2,5'])), [1, 2, 5]);
  assert.deepEqual(ids(await u.ok(['check', '3', '5-4'])), [3]);
  assert.deepEqual(ids(await u.ok(['check', 'other'])), [6]);
  assert.deepEqual(ids(await u.ok(['check', 'failed', '1', 'other'])), [1, 2, 4, 6]);
  assert.equal(await u.ok(['check', '99']), '');
  assert.equal(await u.ok(['clean', 'failed']), '2 finished jobs removed.\n');
  assert.deepEqual(ids(await u.ok(['check'])), [1, 3, 5, 6]);
  assert.equal(await u.ok(['clean', 'all']), '4 finished jobs removed.\n');
  assert.equal(await u.ok(['check']), '');
  assert.equal(await u.ok(['sub', 'true']), 'Job 7 received.\n');
});

test('kill: queued jobs become undone, running ones killed with their whole process group', { timeout: 60_000 }, async () => {
  await using u = qpyUser({ nodes: 'localhost cores=1 memory=32\n' });
  await u.ok(['sub', '-m', '0.1', 'sleep 3001 & sleep 3002 & wait']);
  await u.ok(['sub', '-m', '0.1', 'true']);
  await waitFor(async () => /1 \(running\)/.test(await u.ok(['check'])), { what: 'job 1 running' });
  assert.equal(await u.ok(['kill', 'queue']), '1 job removed from the queue.\n');
  assert.equal(await u.ok(['kill', 'all']), '1 job will be killed.\n');
  await waitFor(async () => /1 \(killed\)/.test(await u.ok(['check'])), { what: 'job 1 killed' });
  assert.match(await u.ok(['check', '2']), /^2 \(undone\):true \(on None; /);
  // No process of the job survives (its sleeps were in the job's process group).
  const { execFileSync } = await import('node:child_process');
  await waitFor(() => !/sleep 300[12]/.test(execFileSync('ps', ['-eo', 'args']).toString()), { what: 'no sleep of the job left' });
});
