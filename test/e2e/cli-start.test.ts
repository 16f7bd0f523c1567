/**
 * bin/qpy's choice of start: the V8 start-up snapshot (dist/bundle/qpy.blob) only when qpy.blob.node names the
 * very `node` it would run (a blob loads in no other), else the bundle; found through a symbolic link too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QPY_VERSION } from '../../src/protocol/version.js';
import { ROOT, run } from '../helpers/qpy.js';
import { tempDir } from '../helpers/temp.js';

const BLOB = join(ROOT, 'dist', 'bundle', 'qpy.blob');

test('bin/qpy: the snapshot when it was built by this node, else the bundle, without a word on stderr', {
  skip: existsSync(`${BLOB}.node`) ? false : 'no start-up snapshot was built',
}, async () => {
  await using tmp = tempDir('qpy-start-');
  const bundle = join(tmp.path, 'dist', 'bundle');
  mkdirSync(join(tmp.path, 'bin'));
  mkdirSync(bundle, { recursive: true });
  copyFileSync(join(ROOT, 'bin', 'qpy'), join(tmp.path, 'bin', 'qpy'));
  writeFileSync(join(bundle, 'qpy.cjs'), "process.stdout.write('bundle ' + process.argv.slice(2).join(' ') + '\\n');\n");
  symlinkSync(BLOB, join(bundle, 'qpy.blob'));
  const qpy = (bin = join(tmp.path, 'bin', 'qpy')) => run(bin, ['--version'], tmp.path, process.env);

  writeFileSync(join(bundle, 'qpy.blob.node'), readFileSync(`${BLOB}.node`));
  assert.deepEqual(await qpy(), { code: 0, stdout: `${QPY_VERSION}\n`, stderr: '' }, 'the snapshot');
  symlinkSync(join(tmp.path, 'bin', 'qpy'), join(tmp.path, 'qpy-link'));
  assert.deepEqual(await qpy(join(tmp.path, 'qpy-link')), { code: 0, stdout: `${QPY_VERSION}\n`, stderr: '' }, 'through a link');

  writeFileSync(join(bundle, 'qpy.blob.node'), '1 2 3 4 5\n');
  assert.deepEqual(await qpy(), { code: 0, stdout: 'bundle --version\n', stderr: '' }, 'built by another node: the bundle');
  rmSync(join(bundle, 'qpy.blob.node'));
  assert.deepEqual(await qpy(), { code: 0, stdout: 'bundle --version\n', stderr: '' }, 'no record of its node: the bundle');
  rmSync(join(bundle, 'qpy.blob'));
  writeFileSync(join(bundle, 'qpy.blob.node'), readFileSync(`${BLOB}.node`));
  assert.deepEqual(await qpy(), { code: 0, stdout: 'bundle --version\n', stderr: '' }, 'no blob: the bundle');
});
