// Bundles the CLI into one ES module (dist/bundle/qpy.mjs) so `qpy` starts fast:
// one file to read and compile instead of dozens of modules.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/bin.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: 'dist/bundle/qpy.mjs',
  logLevel: 'warning',
  // ws requires these optional native helpers inside try/catch.
  external: ['bufferutil', 'utf-8-validate'],
  // Bundled CommonJS (commander, ws) calls require() for Node built-ins.
  banner: { js: "import { createRequire as __qpyCreateRequire } from 'node:module'; const require = __qpyCreateRequire(import.meta.url);" },
});
