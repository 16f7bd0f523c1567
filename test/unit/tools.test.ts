/**
 * The tools that keep the code honest, run by `npm test` too (so CI runs
 * them): Biome (lint and format, biome.json) and dpdm (no import cycles,
 * type-only imports included). `npm run check` runs the same with tsc.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

test('biome: the tree is linted and formatted', () => {
  const r = spawnSync(bin('biome'), ['ci', '--colors=off', '.'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`.slice(-4000));
});

test('dpdm: no import cycles under src/, test/ and bench/', () => {
  const r = spawnSync(
    bin('dpdm'),
    ['--no-progress', '--no-warning', '--no-tree', '--exit-code', 'circular:1', 'src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`.slice(-4000));
});
