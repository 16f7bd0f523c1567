/** `qpy-multiuser`: its entry point (see daemon-main.ts for the options). */
import { fileURLToPath } from 'node:url';
import { multiuserPaths } from '../../config.js';
import { startMultiuser } from './daemon.js';
import { daemonMain } from '../shared/daemon-main.js';

export async function multiuserMain(argv: string[]): Promise<void> {
  await daemonMain(argv, {
    name: 'qpy-multiuser',
    help:
      'usage: qpy-multiuser [--foreground]\n' +
      'The shared qpy allocator, run by the qpy administrator; normally started by `qpy-admin start`. ' +
      'Its directory is $QPY_MULTIUSER_DIR (default ~/.qpy-multiuser).\n',
    dir: () => multiuserPaths().dir,
    entry: process.argv[1] ?? fileURLToPath(import.meta.url),
    start: (foreground) => startMultiuser({ foreground }),
  });
}
