/**
 * Tests for src/master/validate.ts: validateSpec returns null for a sound
 * JobSpec and an INVALID_ARGUMENT QpyError (not thrown) for no or fractional
 * cores, bad memory, an empty command, a relative directory or NUL bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CORES, MAX_MEM_GB, validateSpec } from '../../../src/master/validate.js';
import type { JobSpec } from '../../../src/protocol/job.js';
import { QpyError } from '../../../src/errors.js';
import { spec } from './fixtures.js';

function rejects(over: Partial<JobSpec>, pattern: RegExp): QpyError {
  const err = validateSpec(spec(over));
  assert.ok(err instanceof QpyError, `${JSON.stringify(over)} was accepted`);
  assert.equal(err.code, 'INVALID_ARGUMENT');
  assert.match(err.message, pattern);
  return err;
}

function accepts(over: Partial<JobSpec>): void {
  assert.equal(validateSpec(spec(over)), null, `${JSON.stringify(over)} was refused`);
}

test('a plain spec is accepted', () => {
  accepts({});
  accepts({ attrs: 'gpu and not slow' });
});

test('cores: whole numbers from 1 to MAX_CORES', () => {
  accepts({ cores: 1 });
  accepts({ cores: 64 });
  accepts({ cores: MAX_CORES });
});

for (const cores of [0, -1, 1.5, 0.5, MAX_CORES + 1, NaN, Infinity, -Infinity, 2 ** 53]) {
  test(`cores ${cores} is refused`, () => {
    rejects({ cores }, /invalid number of cores/);
  });
}

test('memory: any finite number of GB from 0 to MAX_MEM_GB', () => {
  accepts({ memGB: 0 });
  accepts({ memGB: 0.1 });
  accepts({ memGB: 1.5 });
  accepts({ memGB: MAX_MEM_GB });
});

for (const memGB of [-1, -0.001, MAX_MEM_GB + 1, NaN, Infinity, -Infinity]) {
  test(`memory ${memGB} is refused`, () => {
    rejects({ memGB }, /invalid memory/);
  });
}

test('an empty or blank command is refused, with a usage hint', () => {
  for (const command of ['', ' ', '\t\n  ']) {
    const err = rejects({ command }, /command is empty/);
    assert.match(err.hint ?? '', /usage: qpy sub/);
  }
  accepts({ command: ' x ' });
});

test('the directory must be absolute', () => {
  for (const cwd of ['', 'work', './work', '../x', '~/work', ' /work']) rejects({ cwd }, /must be absolute/);
  accepts({ cwd: '/' });
  accepts({ cwd: '/a dir/it\'s "q" $HOME' });
});

test('NUL characters are refused in the command and in the directory', () => {
  rejects({ command: 'echo a\0b' }, /NUL/);
  rejects({ command: '\0' }, /NUL/);
  rejects({ cwd: '/home/u\0/x' }, /NUL/);
});

test('the first problem found is reported: command, cores, memory, directory, NUL', () => {
  rejects({ command: '', cores: 0, memGB: -1, cwd: 'rel' }, /command is empty/);
  rejects({ cores: 0, memGB: -1, cwd: 'rel' }, /cores/);
  rejects({ memGB: -1, cwd: 'rel\0' }, /memory/);
  rejects({ cwd: 'rel\0' }, /absolute/);
});

test('the message shows the offending value', () => {
  rejects({ cores: 1.5 }, /1\.5/);
  rejects({ memGB: -2 }, /-2/);
  rejects({ cwd: 'somewhere' }, /somewhere/);
});

test('validateSpec does not throw and does not modify the spec', () => {
  const s = spec({ cores: 0 });
  const copy = { ...s };
  assert.doesNotThrow(() => validateSpec(s));
  assert.deepEqual(s, copy);
});
