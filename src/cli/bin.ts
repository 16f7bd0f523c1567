/**
 * The CLI's entry module, bundled into dist/bundle/qpy.cjs and run by
 * bin/qpy. The package root is found from this script's own path
 * (dist/bundle/qpy.cjs, or dist/src/cli/bin.js when not bundled).
 */
import { dirname, resolve } from 'node:path';
import { cliMain } from './main.js';

const script = process.argv[1] ?? '';
const root = script.includes('/dist/bundle/') ? resolve(dirname(script), '../..') : resolve(dirname(script), '../../..');
cliMain(process.argv, root).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`qpy: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 2;
  },
);
