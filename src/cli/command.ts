/**
 * The shape of one CLI command. Every command is a small module exporting a
 * CommandDef; the table in commands/index.ts builds the commander program and
 * its help and its tab completion (complete-commander.ts) from these, so
 * they cannot drift.
 */
import type { Command } from 'commander';
import type { MasterConnection } from './connect.js';
import type { Completer } from './complete.js';

export interface CliContext {
  /** Package root (for bin/qpy-master). */
  root: string;
  cwd: string;
  out(text: string): void;
  /** Connect to the master, starting it if needed. */
  master(): Promise<MasterConnection>;
}

export interface CommandDef {
  name: string;
  /** One line, shown in `qpy --help`. */
  summary: string;
  /** Add arguments and options to the commander command. */
  configure(cmd: Command): void;
  run(ctx: CliContext, args: string[], opts: Record<string, unknown>, cmd: Command): Promise<void>;
  /** What tab completion offers for its positional arguments (none if absent); its options come from `configure`. */
  complete?: Completer;
}

/** The version of the `--json` documents (`"qpy": 1`): bumped only when a field changes meaning or goes away. */
export const JSON_VERSION = 1;
