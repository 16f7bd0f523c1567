// Bundles the CLI into one CommonJS file (dist/bundle/qpy.cjs) so `qpy` starts fast: one
// file to read and compile instead of dozens of modules, and Node built-ins loaded through
// require() rather than ES-module facades (measured: about 15 ms less per command).
//
// Then builds the CLI's V8 start-up snapshot (dist/bundle/qpy.blob, from src/cli/snapshot.ts):
// started from it, node skips compiling and evaluating the bundle and the built-ins it loads
// (bench/cli-start has the figures). A blob only loads in the very node binary that built it
// (else node exits 14), so qpy.blob.node records that binary's identity as bin/qpy checks it
// (`stat -L -c '%d %i %s %Y %Z'`: device, inode, size, modification and change times); bin/qpy
// falls back to the bundle when its `node` is another. No blob is not an error: bin/qpy then
// runs the bundle. QPY_NO_SNAPSHOT=1 skips building it.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';

// import() of a built-in becomes require(): a snapshot has no ES-module loader, and in CommonJS it is cheaper.
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  supported: { 'dynamic-import': false },
};
await build({ ...common, entryPoints: ['src/cli/bin.ts'], outfile: 'dist/bundle/qpy.cjs' });

const blob = 'dist/bundle/qpy.blob';
rmSync(blob, { force: true });
rmSync(`${blob}.node`, { force: true });
if (process.env.QPY_NO_SNAPSHOT !== '1' && process.platform === 'linux') {
  await build({ ...common, entryPoints: ['src/cli/snapshot.ts'], outfile: 'dist/bundle/qpy-snapshot.cjs' });
  try {
    // --no-warnings: node warns that some built-ins the bundle loads (child_process, through commander) are
    // "not fully verified" in snapshots; the CLI's tests run through the blob.
    execFileSync(process.execPath, ['--no-warnings', '--snapshot-blob', blob, '--build-snapshot', 'dist/bundle/qpy-snapshot.cjs'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const s = statSync(realpathSync(process.execPath));
    const sec = (ms) => Math.floor(ms / 1000);
    writeFileSync(`${blob}.node`, `${s.dev} ${s.ino} ${s.size} ${sec(s.mtimeMs)} ${sec(s.ctimeMs)}\n`);
  } catch (err) {
    rmSync(blob, { force: true });
    console.warn(`bundle: no start-up snapshot (qpy runs the bundle instead): ${err.message}`);
  }
}
