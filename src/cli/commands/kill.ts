/** `qpy kill IDS|queue|running|all|DIR...`: remove queued jobs, kill running ones. */
import type { CommandDef } from '../command.js';
import { KILL_WORDS } from '../../protocol/user-master.js';
import { invalid } from '../../errors.js';
import { selectorFromArgs } from '../selector-args.js';
import { formatKill } from '../format-replies.js';

export const kill: CommandDef = {
  name: 'kill',
  summary: 'Kill jobs: IDs (3 10-14,20), queue, running, all, or directories',
  configure(cmd) {
    cmd.argument('[targets...]', 'job IDs, queue, running, all, or directories');
  },
  complete: () => ({ kind: 'words', words: KILL_WORDS, from: 'active', dirs: true }),
  async run(ctx, args) {
    if (args.length === 0) throw invalid('say which jobs to kill', 'e.g. qpy kill 12 or qpy kill queue');
    const selector = selectorFromArgs(args, KILL_WORDS, ctx.cwd, 'Range with wrong format or invalid status');
    const master = await ctx.master();
    const reply = await master.request({ type: 'kill', selector });
    if (reply.type === 'killed') ctx.out(formatKill(reply.unqueued, reply.killing.length));
  },
};
