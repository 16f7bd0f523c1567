/**
 * `qpy wait IDS…|all`: block until the jobs are final (the master answers
 * when the last one ends: no polling), then say how they ended; exit 1 if any
 * of them did not end `done`.
 */
import type { CliContext, CommandDef } from '../command.js';
import type { MasterConnection } from '../connect.js';
import { invalid, QpyError } from '../../errors.js';
import { idRanges } from '../id-list.js';

/** Longest a request may wait (the most a timer can be set to). */
const FOREVER_MS = 2 ** 31 - 1;

export const wait: CommandDef = {
  name: 'wait',
  summary: 'Wait until jobs are final (IDs or all); exit 1 if any of them did not end done',
  configure(cmd) {
    cmd.argument('[ids...]', 'job IDs (3 10-14,20) or all');
  },
  complete: () => ({ kind: 'words', words: ['all'], from: 'active' }),
  async run(ctx, args) {
    if (args.length === 0) throw invalid('say which jobs to wait for', 'e.g. qpy wait 12-15, or qpy wait all');
    const all = args.includes('all');
    const ranges = idRanges(args.filter((a) => a !== 'all'));
    await waitUntilFinal(ctx, await ctx.master(), ranges, all);
  },
};

/**
 * Wait on `master` until the jobs in `ranges` (or all jobs) are final, then
 * say how they ended; throws (exit 1) naming those that did not end done.
 * `qpy sub --wait` calls this on the connection it submitted over.
 */
export async function waitUntilFinal(ctx: CliContext, master: MasterConnection, ranges: [number, number][], all = false): Promise<void> {
  const reply = await master.request({ type: 'wait', ranges, all }, FOREVER_MS);
  if (reply.type !== 'waited') return;
  const n = reply.done.length + reply.other.length;
  if (reply.other.length === 0) return ctx.out(`${n === 1 ? 'The job' : `All ${n} jobs`} ended done.\n`);
  const list = reply.other.map(([id, status]) => `${id} (${status})`).join(', ');
  throw new QpyError('NOT_FOUND', `${reply.other.length} of ${n} jobs did not end done: ${list}`);
}
