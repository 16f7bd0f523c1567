// Bundles the CLI into one CommonJS file (dist/bundle/qpy.cjs) so `qpy` starts fast: one
// file to read and compile instead of dozens of modules, and Node built-ins loaded through
// require() rather than ES-module facades (measured: about 15 ms less per command).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/bin.ts'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: 'dist/bundle/qpy.cjs',
  logLevel: 'warning',
});
