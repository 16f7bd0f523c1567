/** `qpy check [STATUS|IDS|DIR]...`: list jobs (all, or those matching any filter). */
import { JSON_VERSION, type CommandDef } from '../command.js';
import { CHECK_WORDS } from '../../protocol/user-master.js';
import { selectorFromArgs } from '../selector-args.js';
import { formatCheck } from '../format-check.js';
import { formatGroup } from '../format-groups.js';
import { colourOn, statusColour } from '../colour.js';
import { shownStatus, type JobStatus } from '../../protocol/job.js';

export const check: CommandDef = {
  name: 'check',
  summary: `List jobs, all or those matching: status words (${CHECK_WORDS.join(' ')}), IDs (3 10-14,20) or directories`,
  configure(cmd) {
    cmd
      .argument('[filters...]', 'status words, ID lists or directories (OR-combined)')
      .option('-g, --groups', 'one line per array or load (counts per status) instead of one per job')
      .option('--json', 'print one JSON document (see the user guide) instead of lines');
  },
  complete: () => ({ kind: 'words', words: CHECK_WORDS, from: 'all' }),
  async run(ctx, args, opts) {
    const selector = selectorFromArgs(args, CHECK_WORDS, ctx.cwd, 'Unknown pattern for checking jobs');
    const master = await ctx.master();
    const groups = opts['groups'] === true;
    const reply = await master.request(groups ? { type: 'check', selector, groups } : { type: 'check', selector });
    if (reply.type !== 'jobs') return;
    if (opts['json']) {
      const notes = new Map(reply.notes);
      // `status`: as the lines show it (`starting` while a launch is not confirmed); `state.type` stays the stored one.
      const jobs = reply.jobs.map((j) => ({ ...j, status: shownStatus(j), ...(notes.has(j.id) ? { notes: notes.get(j.id) } : {}) }));
      return ctx.out(JSON.stringify({ qpy: JSON_VERSION, paused: reply.paused, jobs, ...(groups ? { groups: reply.groups ?? [] } : {}), ...(reply.notice !== undefined ? { notice: reply.notice } : {}) }) + '\n');
    }
    const s = reply.settings;
    const colour = colourOn(s, process.stdout.isTTY === true) ? (st: JobStatus) => statusColour(s, st) : undefined;
    const groupLines = (reply.groups ?? []).map((g) => ({ id: g.first, text: formatGroup(g, colour) }));
    // A notice (queued jobs cannot start: not allowed) follows the jobs, after any `Job submission is paused.`
    ctx.out(formatCheck(reply.jobs, s.checkFMT, Date.now(), reply.paused, new Map(reply.notes), colour, groupLines) + (reply.notice !== undefined ? `${reply.notice}\n` : ''));
  },
};
