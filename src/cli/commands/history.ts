/**
 * `qpy history [STATUS|IDS|DIR]... [--since WHEN] [--until WHEN]`: every run
 * that ended, cleaned jobs too, oldest end first, as lines (`--format`, checkFMT
 * codes) or one JSON document. The master sends it a page at a time; each is
 * printed as it comes.
 */
import { JSON_VERSION, type CommandDef } from '../command.js';
import { HISTORY_WORDS } from '../../protocol/history.js';
import type { CliToMaster, MasterToCli } from '../../protocol/user-master.js';
import { jobSchema, type Job, type JobStatus } from '../../protocol/job.js';
import { selectorFromArgs } from '../selector-args.js';
import { formatJob } from '../format-check.js';
import { colourOn, paint, statusColour } from '../colour.js';
import { timeWindow } from '../when.js';
import type { MasterConnection } from '../connect.js';

type HistoryReply = Extract<MasterToCli, { type: 'history' }>;
type Query = Extract<CliToMaster, { type: 'history' }>['query'];

/** The default line of a record: check's default with the GPUs it held (where any) and when it ended. */
export const DEFAULT_HISTORY_FORMAT = '%j (%s):%c (on %n%g; wd: %d; ended %E%e)\n';

/** `--format` as typed: `\n` and `\t` understood, and a newline added when it ends with none. */
export function historyFormat(text: string | undefined): string {
  if (text === undefined) return DEFAULT_HISTORY_FORMAT;
  const fmt = text.replace(/\\([nt\\])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));
  return fmt.endsWith('\n') ? fmt : `${fmt}\n`;
}

export const history: CommandDef = {
  name: 'history',
  summary: 'List every run that ended, cleaned jobs too: status words, IDs or directories; --since/--until',
  configure(cmd) {
    cmd
      .argument('[filters...]', `status words (${HISTORY_WORDS.join(' ')}), ID lists or directories (OR-combined)`)
      .option('--since <WHEN>', 'only runs that ended at or after WHEN: a date (2025-03-01, "2025-03-01 14:30") or an age (2d, 6h, 30m)')
      .option('--until <WHEN>', 'only runs that ended before WHEN (same forms)')
      .option('--format <FMT>', 'print each record with these checkFMT codes (see qpy config checkFMT)')
      .option('--json', 'print one JSON document (see the user guide) instead of lines');
  },
  complete: () => ({ kind: 'words', words: HISTORY_WORDS, dirs: true }),
  async run(ctx, args, opts) {
    const selector = selectorFromArgs(args, HISTORY_WORDS, ctx.cwd, 'Unknown pattern for history');
    const now = Date.now();
    const window = timeWindow(opts['since'] as string | undefined, opts['until'] as string | undefined, now);
    const fmt = historyFormat(opts['format'] as string | undefined);
    const master = await ctx.master();
    const query: Query = { selector, ...window, after: null };
    let skipped = 0;
    if (opts['json']) {
      ctx.out(`{"qpy":${JSON.stringify(JSON_VERSION)},"history":[`);
      let sep = '';
      for await (const r of pages(master, query)) {
        const page = readPage(r);
        skipped += page.skipped;
        const text = page.records
          .map(({ job, last }) => JSON.stringify({ ...job, status: job.state.type, ...(last !== undefined ? { last } : {}) }))
          .join(',');
        if (text === '') continue;
        ctx.out(sep + text);
        sep = ',';
      }
      return ctx.out(`]${skipped > 0 ? `,"skipped":${skipped}` : ''}}\n`);
    }
    for await (const r of pages(master, query)) {
      const page = readPage(r);
      skipped += page.skipped;
      const s = r.settings;
      const coloured = colourOn(s, process.stdout.isTTY === true);
      let out = '';
      for (const { job, last } of page.records) {
        const text = formatJob(job, fmt, now, undefined, last !== undefined ? `${job.id}-${last}` : String(job.id));
        out += coloured ? paint(text, statusColour(s, job.state.type as JobStatus)) : text;
      }
      ctx.out(out);
    }
    if (skipped > 0) ctx.out(`${skipped} history records could not be read and were left out.\n`);
  },
};

/** The records of a page, each read and checked (jobSchema); `last` for one standing for a run of IDs; how many could not be read. */
export function readPage(r: Pick<HistoryReply, 'records' | 'spans'>): { records: { job: Job; last?: number }[]; skipped: number } {
  const last = new Map(r.spans);
  const records: { job: Job; last?: number }[] = [];
  let skipped = 0;
  for (const [i, text] of r.records.entries()) {
    try {
      const job = jobSchema(JSON.parse(text), '$');
      records.push(last.has(i) ? { job, last: last.get(i)! } : { job });
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}

/**
 * The pages of a history listing, in order. The next page is asked for as
 * soon as a page comes, so the master reads it while this one is printed.
 */
async function* pages(master: MasterConnection, query: Query): AsyncGenerator<HistoryReply> {
  let next = master.request({ type: 'history', query });
  for (;;) {
    const r = await next;
    if (r.type !== 'history') return;
    if (r.more !== undefined) {
      next = master.request({ type: 'history', query: { ...query, after: r.more } });
      next.catch(() => undefined); // awaited (and thrown) on the next turn; not unhandled if printing stops first
    }
    yield r;
    if (r.more === undefined) return;
  }
}
