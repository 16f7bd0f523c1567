/** The batch script text and the lines its pipe carries (launch-batch.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { batchHeader, batchLine, batchTrailer, parseBatchLine } from '../../src/executor/launch-batch.js';

test('batch lines quote every argument and report the index and pid', () => {
  const line = batchLine('bash', 3, ['/run', '7', '7', `/w d/it's`, 'echo "$x" | cat']);
  assert.equal(
    line,
    `/bin/sh -c "$W" qpy-job '/run' '7' '7' '/w d/it'\\''s' 'echo "$x" | cat' 3>&1 >/dev/null 2>&1 </dev/null & echo "S 3 $!"\n`,
  );
  assert.match(batchLine('setsid', 0, ['a']), /^setsid \/bin\/sh -c "\$W" qpy-job 'a' /);
  assert.match(batchHeader('bash'), /^set -m\nW='/);
  assert.doesNotMatch(batchHeader('setsid'), /set -m/);
});

test('a header, lines and trailer make a script sh can parse', () => {
  for (const mode of ['bash', 'setsid'] as const) {
    const script = batchHeader(mode) + batchLine(mode, 0, ['/r', '1', '1', '/w', `it's "q" $(x)`]) + batchTrailer(mode);
    assert.equal(spawnSync(mode === 'bash' ? 'bash' : 'sh', ['-n', '-c', script]).status, 0, mode);
  }
});

test('pipe lines parse; anything else is ignored', () => {
  assert.deepEqual(parseBatchLine('S 0 1234'), { type: 'started', index: 0, pid: 1234 });
  assert.deepEqual(parseBatchLine('E 17 0'), { type: 'ended', key: '17', status: 0 });
  assert.deepEqual(parseBatchLine('E 17.a2 143'), { type: 'ended', key: '17.a2', status: 143 });
  assert.deepEqual(parseBatchLine('W 4321 137'), { type: 'reaped', pid: 4321, status: 137 });
  for (const bad of ['', 'S 1', 'S x 1', 'E ../x 0', 'E 1 -1', 'X 1 1', 'S 1 2 3']) assert.equal(parseBatchLine(bad), null, bad);
});
