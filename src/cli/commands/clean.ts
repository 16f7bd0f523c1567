/** `qpy clean IDS|done|failed|killed|timeout|out_of_memory|undone|node_failed|all|DIR...`: forget finished jobs. */
import type { CommandDef } from '../command.js';
import { CLEAN_WORDS } from '../../protocol/user-master.js';
import { invalid } from '../../errors.js';
import { selectorFromArgs } from '../selector-args.js';
import { formatClean } from '../format-replies.js';

export const clean: CommandDef = {
  name: 'clean',
  summary: 'Remove finished jobs from the list: IDs, a final status (done, failed, killed, timeout…), all, or directories',
  configure(cmd) {
    cmd.argument('[targets...]', 'job IDs, done, failed, killed, timeout, out_of_memory, undone, node_failed, all, or directories');
  },
  complete: () => ({ kind: 'words', words: CLEAN_WORDS, from: 'final', dirs: true }),
  async run(ctx, args) {
    if (args.length === 0) throw invalid('say which finished jobs to clean', 'e.g. qpy clean done or qpy clean all');
    const selector = selectorFromArgs(args, CLEAN_WORDS, ctx.cwd, 'Range with wrong format or invalid status');
    const master = await ctx.master();
    const reply = await master.request({ type: 'clean', selector });
    if (reply.type === 'cleaned') ctx.out(formatClean(reply.count));
  },
};
