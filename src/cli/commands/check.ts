/**
 * `qpy check [STATUS|IDS|DIR]...`: list jobs (all, or those matching any
 * filter). The listing comes a page at a time and is printed as it comes.
 * Past CHECK_LIMIT matching jobs, arrays and loads are summed up one line
 * each (as `--groups` does) unless `--all` is given.
 */
import { JSON_VERSION, type CommandDef } from '../command.js';
import { CHECK_LIMIT, CHECK_WORDS, type MasterToCli } from '../../protocol/user-master.js';
import { invalid } from '../../errors.js';
import { selectorFromArgs } from '../selector-args.js';
import { CheckLines, PAUSED_LINE } from '../format-check.js';
import { formatGroup } from '../format-groups.js';
import { colourOn, statusColour } from '../colour.js';
import { shownStatus, type JobStatus } from '../../protocol/job.js';
import type { MasterConnection } from '../connect.js';

type JobsReply = Extract<MasterToCli, { type: 'jobs' }>;

/** The line after a listing whose arrays and loads were summed up because it was long. */
export function summedLine(matched: number): string {
  return `${matched} jobs match, more than ${CHECK_LIMIT}: arrays and loads are shown one line each (every job: qpy check --all).\n`;
}

export const check: CommandDef = {
  name: 'check',
  summary: `List jobs, all or those matching: status words (${CHECK_WORDS.join(' ')}), IDs (3 10-14,20) or directories`,
  configure(cmd) {
    cmd
      .argument('[filters...]', 'status words, ID lists or directories (OR-combined)')
      .option('-g, --groups', 'one line per array or load (counts per status) instead of one per job')
      .option('--all', `one line per job however many match (past ${CHECK_LIMIT}, arrays and loads are otherwise shown one line each)`)
      .option('--json', 'print one JSON document (see the user guide) instead of lines');
  },
  complete: () => ({ kind: 'words', words: CHECK_WORDS, from: 'all', dirs: true }),
  async run(ctx, args, opts) {
    const selector = selectorFromArgs(args, CHECK_WORDS, ctx.cwd, 'Unknown pattern for checking jobs');
    const groups = opts['groups'] === true;
    const all = opts['all'] === true;
    if (groups && all) throw invalid('--groups and --all do not go together', 'qpy check --groups, or qpy check --all');
    const master = await ctx.master();
    const first = await master.request({ type: 'check', selector, ...(groups ? { groups } : {}), ...(all ? { all } : {}) });
    if (first.type !== 'jobs') return;
    if (opts['json']) {
      ctx.out(`{"qpy":${JSON.stringify(JSON_VERSION)},"paused":${first.paused},"jobs":[`);
      let sep = '';
      for await (const r of pages(master, first)) {
        const notes = new Map(r.notes);
        // `status`: as the lines show it (`starting` while a launch is not confirmed); `state.type` stays the stored one.
        const text = r.jobs
          .map((j) => JSON.stringify({ ...j, status: shownStatus(j), ...(notes.has(j.id) ? { notes: notes.get(j.id) } : {}) }))
          .join(',');
        if (text !== '') ctx.out(sep + text);
        if (text !== '') sep = ',';
      }
      const tail = {
        ...(groups || first.groups !== undefined ? { groups: first.groups ?? [] } : {}),
        ...(first.summed === true ? { summed: true, matched: first.matched } : {}),
        ...(first.notice !== undefined ? { notice: first.notice } : {}),
      };
      const rest = JSON.stringify(tail).slice(1, -1);
      return ctx.out(`]${rest === '' ? '' : `,${rest}`}}\n`);
    }
    const s = first.settings;
    const colour = colourOn(s, process.stdout.isTTY === true) ? (st: JobStatus) => statusColour(s, st) : undefined;
    const groupLines = (first.groups ?? []).map((g) => ({ id: g.first, text: formatGroup(g, colour) }));
    const lines = new CheckLines(s.checkFMT, Date.now(), colour, groupLines);
    for await (const r of pages(master, first)) ctx.out(lines.page(r.jobs, new Map(r.notes)));
    // A notice (queued jobs cannot start: not allowed) follows the jobs, after any `Job submission is paused.`
    const summed = first.summed === true ? summedLine(first.matched ?? 0) : '';
    ctx.out(lines.end(false) + summed + (first.paused ? PAUSED_LINE : '') + (first.notice !== undefined ? `${first.notice}\n` : ''));
  },
};

/** The pages of a listing, the first one given, the others read as they are wanted. */
async function* pages(master: MasterConnection, first: JobsReply): AsyncGenerator<JobsReply> {
  let r = first;
  yield r;
  while (r.more !== undefined) {
    const next = await master.request({ type: 'checkMore', cursor: r.more });
    if (next.type !== 'jobs') return;
    r = next;
    yield r;
  }
}
