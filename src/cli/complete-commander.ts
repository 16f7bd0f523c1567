/**
 * The completion table, read from the commander commands the CLIs parse
 * with: each command's options (short and long forms, the name of the value
 * each takes) come from the same `configure` that builds its parser and help,
 * so completion never drifts from them.
 */
import { Command } from 'commander';
import type { CommandDef } from './command.js';
import type { Completable, Completer } from './complete.js';
import type { OptionSpec } from './complete-words.js';

/** The options of a commander command, and whether they end at its first positional argument. */
export function optionsOf(cmd: Command): { options: OptionSpec[]; passThrough: boolean } {
  const options = cmd.options.map((o) => ({
    flags: [o.short, o.long].filter((f): f is string => f !== undefined),
    value:
      o.required || o.optional
        ? (/<([^>]*)>|\[([^\]]*)\]/
            .exec(o.flags)
            ?.slice(1)
            .find((v) => v !== undefined) ?? '')
        : null,
    hidden: o.hidden,
  }));
  // commander keeps passThroughOptions() in a field of its own; the unit tests check that `sub` reads as pass-through.
  return { options, passThrough: (cmd as unknown as { _passThroughOptions?: boolean })._passThroughOptions === true };
}

/** One commander command as a completion entry, with `complete` for its positional arguments. */
export function completableOf(cmd: Command, complete?: Completer): Completable {
  return { name: cmd.name(), summary: cmd.summary() || cmd.description(), ...optionsOf(cmd), ...(complete ? { complete } : {}) };
}

/** qpy's command table as completion entries: each command configured as the CLI configures it. */
export function completablesOf(defs: readonly CommandDef[]): Completable[] {
  return defs.map((def) => {
    const cmd = new Command(def.name).summary(def.summary);
    def.configure(cmd);
    return completableOf(cmd, def.complete);
  });
}
