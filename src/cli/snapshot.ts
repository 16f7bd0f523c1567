/**
 * The entry of the CLI's V8 start-up snapshot (dist/bundle/qpy.blob, built by
 * scripts/bundle.mjs with `node --build-snapshot`). Building it runs every
 * module's top level once, so a `qpy` started from the blob skips compiling
 * and evaluating the bundle and loading the built-ins it needs: bin/qpy runs
 * `node --snapshot-blob qpy.blob -- ROOT ARGS…`. Nothing read at module top
 * level may depend on the environment, the user or the time: it would be
 * frozen at build time (config.ts `timing` reads the environment on each use).
 */
import { startupSnapshot } from 'node:v8';
import { runCli } from './main.js';

startupSnapshot.setDeserializeMainFunction(() => {
  // argv: [node, ROOT, ...ARGS]; cliMain expects process.argv's shape, [node, script, ...ARGS].
  const [node = 'node', root = '.', ...args] = process.argv;
  runCli([node, 'qpy', ...args], root);
});
