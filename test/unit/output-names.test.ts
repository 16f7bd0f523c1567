/** Tests for src/protocol/output-names.ts: job names, output file patterns, their checks and expansion. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  expandPattern,
  inJobDir,
  jobNameProblem,
  namesProblem,
  outputFiles,
  outputPath,
  patternProblem,
} from '../../src/protocol/output-names.js';

test('codes: %j the ID, %a the array index (empty outside a group), %x the name (empty without), %% a %', () => {
  assert.equal(expandPattern('logs/%x-%j_%a.out', { id: 12, index: 3, name: 'fit' }), 'logs/fit-12_3.out');
  assert.equal(expandPattern('%x-%j_%a.out', { id: 12 }), '-12_.out');
  assert.equal(expandPattern('100%%-%j%%j', { id: 5 }), '100%-5%j', 'one left-to-right scan: %% is not read again');
  assert.equal(expandPattern('plain.txt', { id: 5 }), 'plain.txt');
  assert.equal(expandPattern('%x', { id: 1, name: 'a%jb' }), 'a%jb', 'a name is not expanded');
});

test('the files of a job: the defaults, a pattern each, relative or absolute', () => {
  const spec = { cwd: '/w' };
  assert.deepEqual(outputFiles(7, spec), { out: 'job_7.out', err: 'job_7.err' });
  assert.deepEqual(outputFiles(7, { ...spec, out: 'o/%x.%a', name: 'n', group: { index: 4 } }), { out: 'o/n.4', err: 'job_7.err' });
  assert.deepEqual(outputFiles(7, { ...spec, err: '/abs/%j.e' }), { out: 'job_7.out', err: '/abs/7.e' });
  assert.equal(outputPath(7, spec), '/w/job_7.out');
  assert.equal(outputPath(7, { cwd: '/', out: 'x' }), '/x');
  assert.equal(outputPath(7, { cwd: '/w', out: '/tmp/%j' }), '/tmp/7');
  assert.equal(inJobDir('/w/', 'a/b'), '/w/a/b');
});

test('patterns refused with one clear line: unknown codes, a lone %, control characters, empty, a directory, too long', () => {
  assert.equal(patternProblem('logs/%x-%j.%a.out', '--out'), null);
  assert.equal(patternProblem('/abs/with space/%%.log', '--err'), null);
  assert.match(patternProblem('%q.out', '--out') ?? '', /^--out: unknown code %q; the codes are %j .*%%/);
  assert.match(patternProblem('out%', '--out') ?? '', /lone %/);
  assert.match(patternProblem('a\nb', '--err') ?? '', /newline/);
  assert.match(patternProblem('a\0b', '--err') ?? '', /NUL/);
  assert.match(patternProblem('a\tb', '--err') ?? '', /control character/);
  assert.match(patternProblem('', '--out') ?? '', /not an empty one/);
  assert.match(patternProblem('logs/', '--out') ?? '', /names a directory/);
  assert.match(patternProblem('x'.repeat(5000), '--out') ?? '', /longer than 4096/);
  assert.match(patternProblem('%j'.repeat(300), '--out') ?? '', /longer than/, 'an ID may have 15 digits');
  assert.equal(patternProblem('%x'.repeat(40), '--out', 'n'.repeat(100)), null);
  assert.match(patternProblem('%x'.repeat(41), '--out', 'n'.repeat(100)) ?? '', /longer than/);
  for (const p of ['%q', 'a%', 'a\nb', '', 'd/']) assert.ok(!(patternProblem(p, '--out') ?? '').includes('\n'), 'one line');
});

test('names: 1 to 128 characters, no control character, no /', () => {
  assert.equal(jobNameProblem('fit run #3 (é)'), null);
  assert.match(jobNameProblem('') ?? '', /empty/);
  assert.match(jobNameProblem('n'.repeat(129)) ?? '', /at most 128 characters, not 129/);
  assert.equal(jobNameProblem('n'.repeat(128)), null);
  assert.match(jobNameProblem('a\nb') ?? '', /newline/);
  assert.match(jobNameProblem('a/b') ?? '', /'\/'/);
});

test('namesProblem: the name first, then --out, then --err, the name counted in the patterns’ length', () => {
  assert.equal(namesProblem({}), null);
  assert.equal(namesProblem({ name: 'a', out: '%x.o', err: '%x.e' }), null);
  assert.match(namesProblem({ name: '', out: '%q' }) ?? '', /name/);
  assert.match(namesProblem({ out: '%q', err: '%w' }) ?? '', /^--out/);
  assert.match(namesProblem({ err: '%w' }) ?? '', /^--err/);
});
