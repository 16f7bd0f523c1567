/** `qpy completion bash`: the bash completion script; `eval "$(qpy completion bash)"` in ~/.bashrc installs it. */
import type { CommandDef } from '../command.js';
import { invalid } from '../../errors.js';
import { bashScript } from '../complete-bash.js';

export const completion: CommandDef = {
  name: 'completion',
  summary: 'Print the bash completion script: add  eval "$(qpy completion bash)"  to ~/.bashrc',
  configure(cmd) {
    cmd.argument('[shell]', 'bash');
  },
  complete: (args) => (args.length === 0 ? { kind: 'words', words: ['bash'] } : { kind: 'none' }),
  async run(ctx, args) {
    if ((args[0] ?? 'bash') !== 'bash') throw invalid(`no completion for ${args[0]}: only bash is supported`);
    ctx.out(bashScript('qpy'));
  },
};
