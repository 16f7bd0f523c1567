/** `qpy status`: the users and nodes tables of the allocator. */
import { JSON_VERSION, type CommandDef } from '../command.js';
import { formatStatus } from '../format-status.js';

export const status: CommandDef = {
  name: 'status',
  summary: 'Show the users and nodes of the cluster and what they use',
  configure(cmd) {
    cmd.option('--json', 'print one JSON document (see the user guide) instead of the tables');
  },
  async run(ctx, _args, opts) {
    const master = await ctx.master();
    const reply = await master.request({ type: 'status' });
    if (reply.type !== 'status') return;
    if (opts['json']) ctx.out(`${JSON.stringify({ qpy: JSON_VERSION, user: reply.user, ...reply.status })}\n`);
    else ctx.out(formatStatus(reply.status));
  },
};
