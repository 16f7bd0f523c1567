/**
 * `qpy`, the user's CLI: builds the commander program from the command table,
 * runs one command against the user's master, and maps every expected failure
 * to one line on stderr and exit status 1 (no stack traces).
 */
import { QPY_VERSION } from '../protocol/version.js';
import { Command } from 'commander';
import { runProgram } from './report.js';
import { fileURLToPath } from 'node:url';
import { QpyError } from '../errors.js';
import type { CliContext } from './command.js';
import { COMMANDS } from './commands/index.js';
import { connectMaster, type MasterConnection } from './connect.js';
import { completeForShell } from './complete-sources.js';

/** Run the CLI as a process: `argv` as process.argv has it; the exit status is set when it is done. */
export function runCli(argv: string[], root: string): void {
  cliMain(argv, root).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`qpy: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 2;
    },
  );
}

/** Run the CLI; `root` is the package root (where bin/ lives). Resolves with the exit status. */
export async function cliMain(argv: string[], root: string | URL): Promise<number> {
  const rootPath = typeof root === 'string' ? root : fileURLToPath(root);
  if (argv[2] === '__complete') return completeForShell(argv.slice(3));
  const held: { conn: MasterConnection | null } = { conn: null };
  const ctx: CliContext = {
    root: rootPath,
    get cwd() {
      return physicalCwd();
    },
    out: (text) => void process.stdout.write(text),
    master: async () => (held.conn ??= await connectMaster({ root: rootPath })),
  };
  const program = new Command('qpy')
    .description('qpy: queue and run jobs on your cluster, fairly shared')
    .version(QPY_VERSION, '-V, --version', 'print the version of qpy')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: (s) => process.stdout.write(s) })
    .showSuggestionAfterError(true);
  for (const def of COMMANDS) {
    const cmd = program.command(def.name).summary(def.summary).description(def.summary);
    def.configure(cmd);
    cmd.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: (s) => process.stdout.write(s) });
    cmd.action(async (...a: unknown[]) => {
      const command = a[a.length - 1] as Command;
      await def.run(ctx, command.args, command.opts(), command);
    });
  }
  try {
    return await runProgram('qpy', program, argv);
  } finally {
    held.conn?.close();
  }
}

/** The physical current directory (process.cwd() resolves symlinks on Linux; PWD may not). */
function physicalCwd(): string {
  try {
    return process.cwd();
  } catch {
    throw new QpyError('INVALID_ARGUMENT', 'the current directory no longer exists', 'cd to an existing directory');
  }
}
