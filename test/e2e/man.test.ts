/**
 * The man pages built from manual/man/ (`npm run build`): readable with
 * `man -l`, and qpy(1) documents every command of the CLI's table, so they
 * cannot drift apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/qpy.js';
import { COMMANDS } from '../../src/cli/commands/index.js';

const MAN = spawnSync('man', ['--version']).status === 0;

test('man pages: qpy(1), qpy-master(8), qpy-multiuser(8), qpy-admin(8) readable with man -l; qpy(1) lists every command', {
  skip: MAN ? false : 'man is not installed',
}, () => {
  const read = (page: string) => {
    const r = spawnSync('man', ['-l', join(ROOT, 'dist', 'man', page)], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '100', MAN_KEEP_FORMATTING: '' },
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.replace(/.\x08/g, '');
  };
  for (const [page, name] of [
    ['qpy.1', 'qpy - queue and run jobs'],
    ['qpy-master.8', 'qpy-master - the per-user qpy daemon'],
    ['qpy-multiuser.8', 'qpy-multiuser - the shared qpy allocator'],
    ['qpy-admin.8', 'qpy-admin - run the shared qpy allocator'],
  ] as const) {
    assert.match(read(page), new RegExp(`NAME\\n +${name.replace(/[-()]/g, '\\$&')}`), page);
  }
  const qpy = read('qpy.1');
  for (const c of COMMANDS) assert.match(qpy, new RegExp(`• ${c.name}\\b`), `qpy(1) documents ${c.name}`);
});
