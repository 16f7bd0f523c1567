/**
 * The CLI's entry module, bundled into dist/bundle/qpy.mjs and run by
 * bin/qpy. It finds the package root from its own location and runs cliMain.
 */
import { cliMain } from './main.js';

const here = new URL('.', import.meta.url);
// dist/bundle/ (bundled) or dist/src/cli/ (tsc output): the root is the folder holding dist/.
const root = new URL(here.pathname.includes('/dist/bundle/') ? '../../' : '../../../', here);
process.exitCode = await cliMain(process.argv, root);
