/** `qpy config` through the installed CLI: show, set, refuse, keep across a restart, and its effect on check and sub. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

test('config: defaults shown; checkFMT, colours and attribute defaults set, kept across a restart and used; bad values refused', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser({
    nodes: 'big1 address=localhost cores=2 memory=16 attributes=big\nsmall address=localhost cores=1 memory=16\n',
  });
  assert.match(
    await u.ok(['config']),
    new RegExp(
      "^Check pattern: '%j%I \\(%s\\):%c \\(on %n; wd: %d%e\\)\\\\n'\n" +
        'Using a copied version of run script: False\nUsing coloured check: True\nColours:\n {2}- queue \\(yellow\\)\n',
    ),
  );
  assert.equal(await u.ok(['config', 'checkFMT', '%j|%s|%a|%x\\n']), "Check pattern modified to '%j|%s|%a|%x\\n'.\n");
  assert.equal(await u.ok(['config', 'defaultAttr', 'big']), 'defaultAttr set to big.\n');
  assert.equal(await u.ok(['config', 'colour', 'false']), 'colour set to False\n');
  assert.equal(await u.ok(['config', 'coloursScheme', 'red', 'green', 'blue', 'cyan', 'white']), 'Colours scheme changed.\n');
  await u.ok(['sub', 'exit 3']);
  await u.ok(['sub', '-a', 'small', 'true']);
  await waitFor(async () => !/queue|running/.test(await u.ok(['check'])), { what: 'both ended' });
  assert.equal(
    await u.ok(['check']),
    '1|failed|big|exit 3\n2|done|small|exit 0\n',
    'the pattern, and defaultAttr only where -a was not given',
  );
  await u.ok(['restart']);
  assert.match(
    await u.ok(['config']),
    /^Check pattern: '%j\|%s\|%a\|%x\\n'\nUsing a copied version of run script: False\nUsing coloured check: False\nDefault node attributes: big\n$/,
  );
  assert.equal(await u.ok(['config', 'defaultAttr']), 'defaultAttr unset.\n');
  assert.equal(
    await u.ok(['config', 'checkFMT', 'default']),
    "Check pattern restored to the default value: '%j%I (%s):%c (on %n; wd: %d%e)\\n'.\n",
  );
  for (const [args, err] of [
    [['config', 'colour', 'maybe'], 'qpy: Value for colour must be true or false. (see the settings with: qpy config)\n'],
    [['config', 'colour'], 'qpy: Value for colour must be true or false. (see the settings with: qpy config)\n'],
    [
      ['config', 'coloursScheme', 'red'],
      'qpy: Give five colours for coloursScheme (queue running done killed undone), and optionally a sixth for failed. (see the settings with: qpy config)\n',
    ],
    [['config', 'andAttr', 'big', 'and'], 'qpy: andAttr: invalid attribute expression "big and": expected an attribute after "and"\n'],
    [
      ['config', 'sleepTimeCheckRun', '5'],
      'qpy: sleepTimeCheckRun no longer exists: job ends are seen at once: there is no polling interval to tune. (see the settings with: qpy config)\n',
    ],
    [['config', 'nope', '1'], 'qpy: Unknown key: nope (see the settings with: qpy config)\n'],
  ] as const) {
    const r = await u.qpy([...args]);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stderr, err, args.join(' '));
  }
});

test('config sourceTheseFiles: the files are sourced before each job starts; a missing one fails the job clearly', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser();
  const { writeFileSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  writeFileSync(join(u.work, 'env.sh'), 'GREETING="hello from env.sh"\n');
  assert.equal(
    await u.ok(['config', 'sourceTheseFiles', join(u.work, 'env.sh')]),
    `sourceTheseFiles set to ['${join(u.work, 'env.sh')}'].\n`,
  );
  await u.ok(['sub', 'echo "$GREETING"']);
  await waitFor(async () => /1 \(done\)/.test(await u.ok(['check'])), { what: 'job 1 done' });
  assert.equal(readFileSync(join(u.work, 'job_1.out'), 'utf8'), 'hello from env.sh\n');
  await u.ok(['config', 'sourceTheseFiles', join(u.work, 'missing.sh')]);
  await u.ok(['sub', 'echo ran']);
  await waitFor(async () => /2 \(failed\)/.test(await u.ok(['check'])), { what: 'job 2 failed' });
  assert.equal(readFileSync(join(u.work, 'job_2.out'), 'utf8'), '');
  assert.match(readFileSync(join(u.work, 'job_2.err'), 'utf8'), /missing\.sh/);
  assert.equal(await u.ok(['config', 'sourceTheseFiles']), 'sourceTheseFiles unset.\n');
});

test('copyScripts and sub -c / -o: a copy taken at submission runs with its own interpreter and goes when the job is final', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser();
  const { writeFileSync, readFileSync, existsSync, readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const script = join(u.work, 'run me.sh');
  // bash-only syntax: run by sh it would fail.
  writeFileSync(script, '#!/bin/bash\nif [[ -n "$BASH_VERSION" ]]; then echo "v1 $1"; fi\n', { mode: 0o755 });
  await u.ok(['ctrlQueue', 'pause']);
  await u.ok(['sub', '-c', "'./run me.sh' a"]); // 1: the copy of v1
  await u.ok(['sub', '-o', "'./run me.sh' b"]); // 2: whatever the file holds when it starts
  assert.equal(await u.ok(['config', 'copyScripts', 'true']), 'copyScripts set to True\n');
  await u.ok(['sub', "'./run me.sh' c"]); // 3: copied, by the setting
  assert.deepEqual(readdirSync(join(u.qpyDir, 'scripts')).sort(), ['job_script.1', 'job_script.3']);
  writeFileSync(script, '#!/bin/bash\necho "v2 $1"\n', { mode: 0o755 });
  await u.ok(['ctrlQueue', 'continue']);
  await waitFor(async () => (await u.ok(['check'])).split('\n').filter((l) => /\(done\)/.test(l)).length === 3, {
    what: 'three jobs done',
  });
  assert.equal(readFileSync(join(u.work, 'job_1.out'), 'utf8'), 'v1 a\n');
  assert.equal(readFileSync(join(u.work, 'job_2.out'), 'utf8'), 'v2 b\n');
  assert.equal(readFileSync(join(u.work, 'job_3.out'), 'utf8'), 'v1 c\n');
  assert.match(await u.ok(['check', '1']), /^1 \(done\):'\.\/run me\.sh' a /, 'check shows the command as submitted');
  await waitFor(() => !existsSync(join(u.qpyDir, 'scripts', 'job_script.1')) && !existsSync(join(u.qpyDir, 'scripts', 'job_script.3')), {
    what: 'the copies removed',
  });
  const both = await u.qpy(['sub', '-c', '-o', 'true']);
  assert.deepEqual([both.code, both.stderr], [1, 'qpy: give either -c (copy the script) or -o (the original script), not both\n']);
});
