/** Tests for src/cli/command-line.ts: building the job's shell command line. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinCommand, shQuote } from '../../../src/cli/command-line.js';

test('shQuote', () => {
  assert.equal(shQuote('sleep'), 'sleep');
  assert.equal(shQuote('a-b_c@d%e+f=g:h,i./j'), 'a-b_c@d%e+f=g:h,i./j');
  assert.equal(shQuote(''), "''");
  assert.equal(shQuote('a  b'), "'a  b'");
  assert.equal(shQuote("it's"), "'it'\\''s'");
  assert.equal(shQuote('$HOME'), "'$HOME'");
  assert.equal(shQuote('~/x'), "'~/x'");
  assert.equal(shQuote('a\nb'), "'a\nb'");
  assert.equal(shQuote('é'), "'é'");
});

test('joinCommand', () => {
  assert.equal(joinCommand(['sleep', '30']), 'sleep 30');
  assert.equal(joinCommand(['echo', 'a  b']), "echo 'a  b'");
  assert.equal(joinCommand(['echo', "it's"]), "echo 'it'\\''s'");
  assert.equal(joinCommand(['printf', '', 'x']), "printf '' x");
  assert.equal(joinCommand(['ls', '-ltr']), 'ls -ltr');
  assert.equal(joinCommand(['echo a; echo b > f']), 'echo a; echo b > f');
  assert.equal(joinCommand(['a b']), 'a b');
  assert.equal(joinCommand(['']), '');
  assert.equal(joinCommand([]), '');
  assert.equal(joinCommand(['echo', ';', 'rm']), "echo ';' rm");
});
