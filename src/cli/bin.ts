/**
 * The CLI's entry module, bundled into dist/bundle/qpy.cjs and run by
 * bin/qpy when the start-up snapshot (snapshot.ts) cannot be used. The
 * package root is found from this script's own path (dist/bundle/qpy.cjs, or
 * dist/src/cli/bin.js when not bundled).
 */
import { dirname, resolve } from 'node:path';
import { runCli } from './main.js';

const script = process.argv[1] ?? '';
runCli(process.argv, script.includes('/dist/bundle/') ? resolve(dirname(script), '../..') : resolve(dirname(script), '../../..'));
