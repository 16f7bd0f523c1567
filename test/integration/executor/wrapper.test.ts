/**
 * The wrapper itself under dash and bash: exit codes, quoting, the claim,
 * and the command line run exactly as given (comments, here-documents,
 * a trailing backslash), a simple command exec'd in place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WRAPPER, WRAPPER_NAME, wrapperArgs, type WrapperInput } from '../../../src/executor/wrapper.js';
import { readEnd, readRunFile } from '../../../src/executor/run-files.js';
import { tempDir } from '../../helpers/temp.js';

const SHELLS = ['dash', 'bash'].filter((sh) => spawnSync('sh', ['-c', `command -v ${sh}`]).status === 0);

function input(dir: string, jobId: number, command: string): WrapperInput {
  const cwd = join(dir, `w d/it's "q"`);
  mkdirSync(cwd, { recursive: true });
  return {
    runDir: join(dir, 'run'),
    key: String(jobId),
    jobId,
    cwd,
    command,
    env: { QPY_JOB_ID: String(jobId), V: `x'y"z\n$w`, CMD: 'c', RUN: 'r', R: 'x', IFS: '/', PATH: '/nowhere' },
  };
}

function check(i: WrapperInput, code: number | null): void {
  assert.equal(code, 7);
  const { usage, ...end } = readEnd(i.runDir, i.key) ?? {};
  assert.deepEqual(end, { outcome: { type: 'exit', code: 7 } });
  assert.ok(usage && usage.userMs >= 0 && usage.sysMs >= 0 && usage.peakKB === undefined, 'its CPU time, from `times`');
  assert.equal(readFileSync(join(i.cwd, `job_${i.jobId}.out`), 'utf8'), `a  b|${i.jobId}|x'y"z\n$w|0\n`);
  assert.equal(readRunFile(i.runDir, i.key)?.kind, 'pid');
}

const CMD = `printf '%s|%s|%s|%s\\n' 'a  b' "$QPY_JOB_ID" "$V" "$#"; exit 7`;

for (const sh of SHELLS) {
  test(`the wrapper runs under ${sh} from an argv`, async () => {
    await using tmp = tempDir();
    const i = input(tmp.path, 1, CMD);
    mkdirSync(i.runDir);
    const r = spawnSync(sh, ['-c', WRAPPER, WRAPPER_NAME, ...wrapperArgs(i)], { stdio: 'ignore' });
    check(i, r.status);
    // A second start of the same launch is refused by the claim.
    const again = spawnSync(sh, ['-c', WRAPPER, WRAPPER_NAME, ...wrapperArgs({ ...i, command: 'touch ran' })], { stdio: 'ignore' });
    assert.equal(again.status, 125);
    assert.equal(existsSync(join(i.cwd, 'ran')), false);
  });

  test(`under ${sh}, the command line runs as given: comments, here-documents, a trailing backslash, exit`, async () => {
    await using tmp = tempDir();
    const cases: [string, string, number][] = [
      ['echo a # a comment', 'a\n', 0],
      ['echo b; exit 3 # and a ) in a comment', 'b\n', 3],
      ['cat <<EOF\nx  y\nEOF', 'x  y\n', 0],
      ['echo c\\', 'c\n', 0],
      ['f() { echo "in f $1"; }; f 1', 'in f 1\n', 0],
    ];
    for (const [n, [command, out, code]] of cases.entries()) {
      const i = { ...input(tmp.path, 10 + n, command), env: {} };
      mkdirSync(i.runDir, { recursive: true });
      const r = spawnSync(sh, ['-c', WRAPPER, WRAPPER_NAME, ...wrapperArgs(i)], { stdio: 'ignore' });
      assert.equal(r.status, code, command);
      assert.equal(readFileSync(join(i.cwd, `job_${i.jobId}.out`), 'utf8'), out, command);
    }
  });

  test(`under ${sh}, a simple command replaces the job's subshell (no extra process)`, async () => {
    await using tmp = tempDir();
    const i = { ...input(tmp.path, 20, `sh -c 'echo "$PPID"'`), env: {} };
    mkdirSync(i.runDir);
    spawnSync(sh, ['-c', WRAPPER, WRAPPER_NAME, ...wrapperArgs(i)], { stdio: 'ignore' });
    const claim = readFileSync(join(i.runDir, '20.run'), 'utf8').split('\n')[0];
    assert.equal(readFileSync(join(i.cwd, 'job_20.out'), 'utf8'), `${claim}\n`, "the command's parent is the wrapper itself");
  });
}

test('output files that cannot be created are reported', async () => {
  await using tmp = tempDir();
  const i = input(tmp.path, 3, 'touch ran');
  mkdirSync(i.runDir);
  mkdirSync(join(i.cwd, 'job_3.out')); // a directory: cannot be opened for writing, even by root
  const r = spawnSync('sh', ['-c', WRAPPER, WRAPPER_NAME, ...wrapperArgs(i)], { stdio: 'ignore' });
  assert.equal(r.status, 126);
  assert.match(readEnd(i.runDir, i.key)?.error ?? '', /cannot create/);
  assert.equal(existsSync(join(i.cwd, 'ran')), false);
});

test('invalid inputs are refused before anything runs', () => {
  const ok: WrapperInput = { runDir: '/r', key: '1', jobId: 1, cwd: '/w', command: 'true', env: {} };
  assert.throws(() => wrapperArgs({ ...ok, cwd: 'relative' }));
  assert.throws(() => wrapperArgs({ ...ok, runDir: 'run' }));
  assert.throws(() => wrapperArgs({ ...ok, env: { 'A-B': 'x' } }));
  assert.throws(() => wrapperArgs({ ...ok, env: { _qw_f: 'x' } }));
  assert.throws(() => wrapperArgs({ ...ok, command: 'a\0b' }));
  assert.throws(() => wrapperArgs({ ...ok, key: '../x' }));
  assert.throws(() => wrapperArgs({ ...ok, out: '' }), /must not be empty/);
  assert.deepEqual(wrapperArgs({ ...ok, out: 'a.log', err: 'a.log' }).slice(5, 7), ['a.log', ''], 'the same file: stderr into stdout');
});
