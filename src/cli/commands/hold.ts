/**
 * `qpy hold IDS…` and `qpy release IDS…`: keep queued jobs from starting (they
 * stay queued, in their place) or let them start again. For the whole queue,
 * see `qpy ctrlQueue pause`.
 */
import type { CommandDef } from '../command.js';
import { invalid } from '../../errors.js';
import { idRanges } from '../id-list.js';

function holdCommand(held: boolean): CommandDef {
  const name = held ? 'hold' : 'release';
  return {
    name,
    summary: held ? 'Keep queued jobs from starting (they keep their place): hold IDs...' : 'Let held jobs start again: release IDs...',
    configure(cmd) {
      cmd.argument('[ids...]', 'job IDs (3 10-14,20)');
    },
    complete: () => ({ kind: 'words', words: [], from: 'queued' }),
    async run(ctx, args) {
      if (args.length === 0) throw invalid(`say which queued jobs to ${name}`, `e.g. qpy ${name} 12-15`);
      const ranges = idRanges(args);
      const reply = await (await ctx.master()).request({ type: 'hold', ranges, held });
      if (reply.type === 'text') ctx.out(`${reply.text}\n`);
    },
  };
}

export const hold = holdCommand(true);
export const release = holdCommand(false);
