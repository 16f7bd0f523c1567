/**
 * Running Slurm's commands for a pool (issue 18): the argument vectors of
 * src/pool/slurm-cli.ts, without a shell, with a time limit; a failure is an
 * Error whose message is the command's first line of complaint.
 */
import { execFile } from 'node:child_process';
import type { SlurmCommand } from '../../pool/slurm-cli.js';

const COMMAND_TIMEOUT_MS = 60_000;

/** Run `cmd` in `cwd`; resolves with its stdout. */
export function runSlurm(cmd: SlurmCommand, cwd: string, env: NodeJS.ProcessEnv | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd.file, cmd.args, { cwd, env, timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd.file} failed: ${(stderr.trim() || err.message).split('\n')[0]}`));
      else resolve(stdout);
    });
  });
}
