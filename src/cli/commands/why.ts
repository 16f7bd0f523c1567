/** `qpy why ID`: why a queued job has not started, in one or two sentences, or how an ended one went and what it used (see master/why.ts). */
import type { CommandDef } from '../command.js';
import { invalid } from '../../errors.js';

export const why: CommandDef = {
  name: 'why',
  summary: 'Say why a queued job has not started yet, or how an ended one went (its efficiency): why ID',
  configure(cmd) {
    cmd.argument('<id>', 'a job ID');
  },
  complete: (args) => (args.length === 0 ? { kind: 'words', words: [], from: 'all' } : { kind: 'none' }),
  async run(ctx, args) {
    const word = args[0]!;
    if (!/^[0-9]{1,15}$/.test(word) || Number(word) < 1) throw invalid(`"${word}" is not a job ID`);
    const reply = await (await ctx.master()).request({ type: 'why', jobId: Number(word) });
    if (reply.type === 'text') ctx.out(`${reply.text}\n`);
  },
};
