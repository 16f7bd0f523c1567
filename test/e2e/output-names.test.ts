/**
 * Job names and output file names through the installed CLI and a real
 * master: `sub --name/--out/--err` (and `#QPY name=, out=, err=`) write
 * where the patterns say, `%a` in an array, `follow` reads the file `--out`
 * named, `check` and `--json` show the name, the job sees QPY_JOB_NAME, a
 * missing directory fails the job with a clear error, and bad input gets one
 * line and exit 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkStatuses, qpyRunning, qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

test('--name and --out/--err: the files, %a in an array, follow, check and --json, #QPY directives, a missing directory', {
  timeout: 90_000,
}, async () => {
  await using u = qpyUser();
  mkdirSync(join(u.work, 'logs'));
  const p = (f: string) => join(u.work, f);
  // 1: named, its output in logs/, its errors in the default file.
  await u.ok(['sub', '-W', '--name', 'fit', '--out', 'logs/%x-%j.out', 'echo "$QPY_JOB_NAME"; echo oops >&2']);
  assert.equal(readFileSync(p('logs/fit-1.out'), 'utf8'), 'fit\n');
  assert.equal(readFileSync(p('job_1.err'), 'utf8'), 'oops\n');
  assert.equal(existsSync(p('job_1.out')), false);
  // 2-4: an array, %a its index; standard error into the same file.
  await u.ok([
    'sub',
    '-W',
    '--array',
    '1-3',
    '-J',
    'arr',
    '--out',
    'logs/%x_%a.log',
    '--err',
    'logs/%x_%a.log',
    'echo $QPY_ARRAY_INDEX; echo e >&2',
  ]);
  for (const i of [1, 2, 3]) assert.equal(readFileSync(p(`logs/arr_${i}.log`), 'utf8'), `${i}\ne\n`);
  // 5: follow reads the file --out named, while the job runs and after.
  await u.ok(['sub', '--out', join(u.work, 'f%%.txt'), 'echo one; while [ ! -e go ]; do sleep 0.05; done; echo two']);
  const f = qpyRunning(u, ['follow', '5']);
  await waitFor(() => f.out() === 'one\n', { what: 'the first line, while the job runs', timeoutMs: 10_000 });
  writeFileSync(p('go'), '');
  assert.equal(await f.code, 0);
  assert.equal(f.out(), 'one\ntwo\n');
  assert.equal(readFileSync(p('f%.txt'), 'utf8'), 'one\ntwo\n', 'an absolute pattern, %% a %');
  // 6: #QPY directives; a flag wins over its directive.
  writeFileSync(p('job.sh'), '#!/bin/sh\n#QPY name=scripted; out=s-%j.log\n#QPY err=s-%j.err\necho ran\n', { mode: 0o755 });
  await u.ok(['sub', '-W', './job.sh']);
  assert.equal(readFileSync(p('s-6.log'), 'utf8'), 'ran\n');
  assert.ok(existsSync(p('s-6.err')));
  await u.ok(['sub', '-W', '--out', 'flag-%j.log', './job.sh']);
  assert.equal(readFileSync(p('flag-7.log'), 'utf8'), 'ran\n');
  // 8: its directory does not exist: the job fails, not started, and says why.
  const missing = await u.qpy(['sub', '-W', '--out', 'nowhere/%j.out', 'touch ran']);
  assert.equal(missing.code, 1);
  assert.equal(existsSync(p('ran')), false);
  const lines = checkStatuses(await u.ok(['check']));
  assert.match(lines.get(8)?.line ?? '', /^8 \(failed\):touch ran .*not started: cannot create its output files/);
  // check: a named job's line shows its name, a job without one's is as it was; %J; --json carries the spec's fields.
  assert.match(lines.get(1)?.line ?? '', /^1 \[fit\] \(done\):echo/);
  assert.equal(lines.get(1)?.status, 'done');
  assert.match(lines.get(5)?.line ?? '', /^5 \(done\):echo one/);
  const json = JSON.parse(await u.ok(['check', '1', '--json'])) as { jobs: { spec: Record<string, unknown> }[] };
  assert.deepEqual(
    [json.jobs[0]?.spec['name'], json.jobs[0]?.spec['out'], json.jobs[0]?.spec['err']],
    ['fit', 'logs/%x-%j.out', undefined],
  );
  await u.ok(['config', 'checkFMT', '%j:%J|']);
  assert.equal(await u.ok(['check', '1-6']), '1:fit|2:arr|3:arr|4:arr|5:|6:scripted|');
});

test('bad names and patterns: one clear line, exit 1, nothing submitted', { timeout: 60_000 }, async () => {
  await using u = qpyUser();
  writeFileSync(join(u.work, 'bad.sh'), '#!/bin/sh\n#QPY out=%q\ntrue\n', { mode: 0o755 });
  const cases: [string[], RegExp][] = [
    [
      ['sub', '--out', '%q.out', 'true'],
      /--out: unknown code %q; the codes are %j \(job ID\), %a \(array index\), %x \(job name\) and %% \(a %\)/,
    ],
    [['sub', '--err', 'x%', 'true'], /--err ends with a lone %/],
    [['sub', '--out', 'a\nb', 'true'], /--out cannot hold a newline/],
    [['sub', '--out', '', 'true'], /--out needs a file name pattern/],
    [['sub', '--out', 'logs/', 'true'], /--out names a directory/],
    [['sub', '--name', 'a\nb', 'true'], /a job name cannot hold a newline/],
    [['sub', '--name', 'n'.repeat(129), 'true'], /a job name has at most 128 characters, not 129/],
    [['sub', '--name', 'a/b', 'true'], /a job name cannot hold a '\/'/],
    [['load', '--out', '%z', '-'], /--out: unknown code %z/],
    [['sub', './bad.sh'], /bad\.sh, line 2: Invalid value for out: out: unknown code %q/],
  ];
  for (const [args, re] of cases) {
    const r = await u.qpy(args);
    assert.equal(r.code, 1, `qpy ${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, re, `qpy ${JSON.stringify(args)}`);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line for qpy ${JSON.stringify(args)}: ${r.stderr}`);
  }
  assert.equal(await u.ok(['check']), '', 'nothing was submitted');
});
