/** `qpy tutorial [WORDS…]`: the user guide, from the first match of the words (see ../tutorial.ts). */
import { join } from 'node:path';
import type { CommandDef } from '../command.js';
import { showGuide } from '../tutorial.js';

export function tutorialCommand(commandNames: () => string[]): CommandDef {
  return {
    name: 'tutorial',
    summary: 'Show the user guide, from a command’s section or the first match of some words',
    configure(cmd) {
      cmd.argument('[words...]', 'a command name or words to find');
    },
    complete: (args) => (args.length === 0 ? { kind: 'words', words: commandNames() } : { kind: 'none' }),
    async run(ctx, args) {
      showGuide(join(ctx.root, 'manual', 'user-guide.md'), args, commandNames(), 'qpy', ctx.out);
    },
  };
}
