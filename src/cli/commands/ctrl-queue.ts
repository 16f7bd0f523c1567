/**
 * `qpy ctrlQueue pause | continue | jump IDS… TARGET` (reference §5.9): stop
 * starting queued jobs (running ones go on), start again, or reorder the
 * paused queue. TARGET is `begin`, `end`, or a queued job's ID (the jobs go
 * right after it). Both the pause and the new order survive a restart.
 */
import type { CommandDef } from '../command.js';
import { invalid, QpyError } from '../../errors.js';
import { idRanges } from '../id-list.js';

/** The jump target: 0 for begin, −1 for end, or a job ID. */
export function parseJumpTarget(word: string): number {
  if (word === 'begin' || word === '0') return 0;
  if (word === 'end' || word === '-1') return -1;
  if (/^[0-9]{1,15}$/.test(word) && Number(word) >= 1) return Number(word);
  throw invalid(`Invalid jump position: ${word}`, 'begin, end or a queued job ID');
}

export const ctrlQueue: CommandDef = {
  name: 'ctrlQueue',
  summary: 'Pause or continue starting queued jobs, or reorder the queue (jump IDs begin|end|ID)',
  configure(cmd) {
    cmd
      .argument('[type]', 'pause, continue or jump')
      .argument('[args...]', 'for jump: job IDs, then begin, end or a job ID')
      .allowUnknownOption(false);
  },
  complete: (args) => {
    if (args.length === 0) return { kind: 'words', words: ['pause', 'continue', 'jump'] };
    if (args[0] !== 'jump') return { kind: 'none' };
    return { kind: 'words', words: args.length === 1 ? [] : ['begin', 'end'], from: 'queued' };
  },
  async run(ctx, args) {
    const [type, ...rest] = args;
    if (type === undefined) throw invalid('Give the queue control type.', 'pause, continue or jump');
    if (type === 'pause' || type === 'continue') {
      if (rest.length > 0) throw invalid(`ctrlQueue ${type} takes no arguments`);
      const reply = await (await ctx.master()).request({ type: 'pause', paused: type === 'pause' });
      if (reply.type === 'text') ctx.out(`${reply.text}\n`);
      return;
    }
    if (type !== 'jump') throw new QpyError('INVALID_ARGUMENT', `Unknown ctrlQueue type: ${type}.`, 'pause, continue or jump');
    if (rest.length < 2) throw invalid('Give the jobs to change position.', 'e.g. qpy ctrlQueue jump 15-17 begin');
    const target = parseJumpTarget(rest.at(-1)!);
    const ranges = idRanges(rest.slice(0, -1));
    const reply = await (await ctx.master()).request({ type: 'jump', ranges, target });
    if (reply.type === 'text') ctx.out(`${reply.text}\n`);
  },
};
