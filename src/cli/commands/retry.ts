/**
 * `qpy retry [IDS…|failed]` and `qpy rerun IDS… --force`: queue finished jobs
 * again under their own IDs, each earlier run kept as an attempt (exit code,
 * node, times; `check --json` shows them, and check says `attempt N`).
 * `retry` takes failed, timeout, out_of_memory and node_failed jobs; `rerun --force`, any finished job.
 */
import type { CommandDef } from '../command.js';
import { invalid } from '../../errors.js';
import { idRanges } from '../id-list.js';

export const retry: CommandDef = {
  name: 'retry',
  summary: 'Queue failed jobs (and timeout, out_of_memory, node_failed) again under their IDs: retry IDs... or retry failed',
  configure(cmd) {
    cmd.argument('[ids...]', 'job IDs (3 10-14,20) or failed (all failed, timeout, out_of_memory and node_failed jobs)');
  },
  complete: () => ({ kind: 'words', words: ['failed'], from: 'final' }),
  async run(ctx, args) {
    if (args.length === 0) throw invalid('say which failed jobs to retry', 'e.g. qpy retry 12, or qpy retry failed');
    const failed = args.includes('failed');
    const reply = await (await ctx.master()).request({
      type: 'requeue',
      ranges: idRanges(args.filter((a) => a !== 'failed')),
      failed,
      any: false,
    });
    if (reply.type === 'text') ctx.out(`${reply.text}\n`);
  },
};

export const rerun: CommandDef = {
  name: 'rerun',
  summary: 'Queue finished jobs of any status again under their IDs: rerun IDs... --force',
  configure(cmd) {
    cmd.argument('[ids...]', 'job IDs (3 10-14,20)').option('--force', 'yes, run them again (done ones included)');
  },
  complete: () => ({ kind: 'words', words: [], from: 'final' }),
  async run(ctx, args, opts) {
    if (args.length === 0) throw invalid('say which finished jobs to run again', 'e.g. qpy rerun 12 --force');
    if (!opts['force'])
      throw invalid('rerun runs finished jobs again, done ones included: add --force to confirm', `qpy rerun ${args.join(' ')} --force`);
    const reply = await (await ctx.master()).request({ type: 'requeue', ranges: idRanges(args), failed: false, any: true });
    if (reply.type === 'text') ctx.out(`${reply.text}\n`);
  },
};
