/** `qpy-master`: the per-user daemon's entry point (see daemon-main.ts for the options). */
import { fileURLToPath } from 'node:url';
import { userPaths } from '../../config.js';
import { startMaster } from './daemon.js';
import { daemonMain } from '../shared/daemon-main.js';

export async function masterMain(argv: string[]): Promise<void> {
  await daemonMain(argv, {
    name: 'qpy-master',
    help: 'usage: qpy-master [--foreground]\nThe per-user qpy daemon; normally started by qpy itself. Its directory is $QPY_DIR (default ~/.qpy).\n',
    dir: () => userPaths().dir,
    entry: process.argv[1] ?? fileURLToPath(import.meta.url),
    start: (foreground) => startMaster({ foreground }),
  });
}
