/** Which command lines the node agent may exec without sh (direct-exec.ts): pure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { directArgv } from '../../../src/executor/direct-exec.js';

test('a plain simple command of literal words is exec’d as its argv', () => {
  assert.deepEqual(directArgv('/bin/true'), ['/bin/true']);
  assert.deepEqual(directArgv('python3 run.py --n=4 -x'), ['python3', 'run.py', '--n=4', '-x']);
  assert.deepEqual(directArgv('./my\\ prog'), null, 'a backslash is shell syntax');
  assert.deepEqual(directArgv("'./my prog' 'it'\\''s'"), null, 'only plain single-quoted words');
  assert.deepEqual(directArgv("'./my prog' 'a  b' ''"), ['./my prog', 'a  b', '']);
  assert.deepEqual(directArgv('make  CC=gcc   all'), ['make', 'CC=gcc', 'all']);
  assert.deepEqual(directArgv("a'b'c"), ['abc'], 'quoted and plain parts make one word');
});

test('anything a shell would treat specially goes to sh', () => {
  for (const line of [
    'echo $HOME',
    'ls *.txt',
    'a; b',
    'a && b',
    'a | b',
    'a > out',
    'a < in',
    'sleep 1 &',
    '(a)',
    '~/bin/x',
    'a #comment',
    'a "b"',
    'a\tb',
    'a\nb',
    'a `b`',
    "a 'unclosed",
    'x?',
    '[a]',
    '{a,b}',
    '',
    '   ',
  ])
    assert.equal(directArgv(line), null, JSON.stringify(line));
});

test('a first word that is an assignment, a builtin or a keyword goes to sh; a path never is one', () => {
  for (const line of ['X=1 prog', 'echo hi', 'printf x', 'test -f a', 'true', 'exit 3', 'cd /', 'if', 'for', "'echo' hi", '. ./env'])
    assert.equal(directArgv(line), null, line);
  assert.deepEqual(directArgv('/bin/echo hi'), ['/bin/echo', 'hi']);
  assert.deepEqual(directArgv('./true'), ['./true']);
});
