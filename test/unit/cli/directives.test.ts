/** Tests for src/cli/directives.ts: #QPY directives (§4.3.2), script word and text sniffing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { looksLikeText, parseDirectives, scriptWord } from '../../../src/cli/directives.js';

test('the documented directives', () => {
  const text = '#!/bin/bash\n#QPY n_cores=2\n#QPY mem=0.1\n#QPY node_attr=bigmem and infiband\n#QPY cpScript true\necho hi\n';
  assert.deepEqual(parseDirectives(text), { ok: true, values: { cores: 2, memGB: 0.1, attrs: 'bigmem and infiband', copyScript: true } });
});

test('pairs split on ;, spaces ignored, aliases, later lines override, CRLF', () => {
  const text =
    '#QPY number of cores = 4 ; memory=10;node attributes =  a   or  b \r\n#QPY cp_script=False; copy script = TRUE\n#QPY n_cores=3\n';
  assert.deepEqual(parseDirectives(text), { ok: true, values: { cores: 3, memGB: 10, attrs: 'a or b', copyScript: true } });
  assert.deepEqual(parseDirectives('#QPY mem=1;\n#QPY copy script false'), { ok: true, values: { memGB: 1, copyScript: false } });
});

test('lines not beginning exactly with "#QPY " are ignored; whole file is scanned', () => {
  const text = ' #QPY n_cores=2\n#QPYn_cores=2\n#QPY\tn_cores=2\n#qpy n_cores=2\n# QPY n_cores=2\necho\n\n#QPY mem=7\n';
  assert.deepEqual(parseDirectives(text), { ok: true, values: { memGB: 7 } });
  assert.deepEqual(parseDirectives(''), { ok: true, values: {} });
});

test('errors with the original wording and a line number', () => {
  assert.deepEqual(parseDirectives('x\n#QPY cores=2'), { ok: false, message: 'Unknown script option: cores', line: 2 });
  assert.deepEqual(parseDirectives('#QPY n_cores 2'), {
    ok: false,
    message: 'Invalid syntax for options inside script: n_cores 2',
    line: 1,
  });
  assert.deepEqual(parseDirectives('#QPY mem=1=2'), { ok: false, message: 'Invalid syntax for options inside script: mem=1=2', line: 1 });
  assert.deepEqual(parseDirectives('#QPY n_cores=two'), { ok: false, message: 'Invalid value for n_cores: two.', line: 1 });
  for (const bad of ['0', '-1', '1.5', '']) {
    assert.equal(parseDirectives(`#QPY n_cores=${bad}`).ok, false, bad);
  }
  for (const bad of ['x', '-1', 'inf', 'nan', '', '1e']) {
    assert.equal(parseDirectives(`#QPY mem=${bad}`).ok, false, bad);
  }
  assert.deepEqual(parseDirectives('#QPY mem=.5'), { ok: true, values: { memGB: 0.5 } });
  assert.deepEqual(parseDirectives('#QPY mem=1e1'), { ok: true, values: { memGB: 10 } });
  assert.deepEqual(parseDirectives('#QPY cpScript=yes'), { ok: false, message: 'Invalid value for cpScript: yes.', line: 1 });
  assert.deepEqual(parseDirectives('#QPY node_attr= '), { ok: false, message: 'Invalid value for node_attr: .', line: 1 });
  assert.deepEqual(parseDirectives('#QPY =3'), { ok: false, message: 'Unknown script option: ', line: 1 });
});

test('scriptWord', () => {
  assert.equal(scriptWord('./script.sh arg1'), './script.sh');
  assert.equal(scriptWord('  bash script.sh'), 'bash');
  assert.equal(scriptWord('~/bin/run.sh'), '~/bin/run.sh');
  assert.equal(scriptWord("'./my script.sh' x"), './my script.sh');
  assert.equal(scriptWord('"./a \\"b\\".sh"'), './a "b".sh');
  assert.equal(scriptWord('./a\\ b.sh'), './a b.sh');
  assert.equal(scriptWord('run.sh;echo'), 'run.sh');
  assert.equal(scriptWord('run.sh>out'), 'run.sh');
  assert.equal(scriptWord('x"y"z'), 'xyz');
  assert.equal(scriptWord(''), null);
  assert.equal(scriptWord('   '), null);
  assert.equal(scriptWord('; ls'), null);
  assert.equal(scriptWord("'' ls"), null);
  assert.equal(scriptWord("'unterminated"), null);
  assert.equal(scriptWord('"unterminated'), null);
});

test('looksLikeText', () => {
  assert.equal(looksLikeText(new TextEncoder().encode('#!/bin/sh\necho hi\n')), true);
  assert.equal(looksLikeText(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1])), false);
  assert.equal(looksLikeText(new Uint8Array(0)), true);
  const late = new Uint8Array(9000).fill(65);
  late[8191] = 0;
  assert.equal(looksLikeText(late), false);
  late[8191] = 65;
  late[8192] = 0;
  assert.equal(looksLikeText(late), true);
});

test('name, out and err: kept as written (trimmed); a bad value gets the flag’s own reason', () => {
  assert.deepEqual(parseDirectives('#QPY name = fit 3; out=logs/%x-%j.out\n#QPY err=/tmp/%j.err\n'), {
    ok: true,
    values: { name: 'fit 3', out: 'logs/%x-%j.out', err: '/tmp/%j.err' },
  });
  const bad = parseDirectives('echo\n#QPY out=%q.out');
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.message, /^Invalid value for out: out: unknown code %q/);
  assert.equal(bad.ok ? 0 : bad.line, 2);
  assert.match((parseDirectives('#QPY name=a/b') as { message: string }).message, /^Invalid value for name: a job name cannot hold a '\/'/);
  assert.match((parseDirectives('#QPY err=') as { message: string }).message, /not an empty one/);
});

test('#QPY notify= takes end, fail or all', () => {
  assert.deepEqual(parseDirectives('#QPY notify=fail\n'), { ok: true, values: { notify: 'fail' } });
  assert.deepEqual(parseDirectives('#QPY n_cores=1; notify = all\n'), { ok: true, values: { cores: 1, notify: 'all' } });
  assert.deepEqual(parseDirectives('#QPY notify=always\n'), { ok: false, message: 'Invalid value for notify: always.', line: 1 });
});
