/** `qpy status`: the users and nodes tables of the allocator. */
import type { CommandDef } from '../command.js';
import { formatStatus } from '../format-status.js';

export const status: CommandDef = {
  name: 'status',
  summary: 'Show the users and nodes of the cluster and what they use',
  configure() {},
  async run(ctx) {
    const master = await ctx.master();
    const reply = await master.request({ type: 'status' });
    if (reply.type === 'status') ctx.out(formatStatus(reply.status));
  },
};
