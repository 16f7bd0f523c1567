/**
 * `qpy sub [-n N] [-m GB] [-g N] [-t LIMIT] [-a EXPR] [-W] COMMAND [ARGS...]`: submit a job.
 * Options end at the first non-option word or `--`. `#QPY` directives in a
 * script named as the first word apply where no flag was given (flags win).
 * `-W` then waits on the same connection (the `wait` request, answered when
 * the job is final) and exits as `qpy wait` does.
 */
import { DEFAULT_JOB_MEM_GB } from '../../protocol/cluster.js';
import { Option, type Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { homedir } from 'node:os';
import { invalid } from '../../errors.js';
import type { CommandDef } from '../command.js';
import { joinCommand } from '../command-line.js';
import { looksLikeText, parseDirectives, scriptWord, scriptWordSpan } from '../directives.js';
import { formatSubmitted } from '../format-replies.js';
import { parseIdList } from '../id-list.js';
import { waitUntilFinal } from './wait.js';
import type { Template } from '../../protocol/user-master.js';
import { parseTimeLimit } from '../../protocol/time-limit.js';
import { namesProblem } from '../../protocol/output-names.js';
import { NOTIFY_WHEN, type NotifyWhen } from '../../protocol/job.js';

export const DEFAULT_CORES = 1;
export const DEFAULT_MEM_GB = DEFAULT_JOB_MEM_GB;

/** Parse a GPU count: a whole number ≥ 0 (`-g 1.5` and `-g -1` are refused). */
export function parseGpus(raw: string, what = '-g'): number {
  const t = raw.trim();
  if (!/^\d{1,9}$/.test(t)) throw invalid(`${what} needs a whole number of GPUs, 0 or more, not '${raw}'`);
  return Number(t);
}

/** Parse a core count: a whole number ≥ 1. */
export function parseCores(raw: string, what = '-n'): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) throw invalid(`${what} needs a whole number of cores of 1 or more, not '${raw}'`);
  return Number(raw);
}

/** The job's name and output files: flags over a script's `#QPY` directives, checked as the master checks them. */
function namesOf(opts: Record<string, unknown>, script: Pick<Template, 'name' | 'out' | 'err'>): Pick<Template, 'name' | 'out' | 'err'> {
  const names: Pick<Template, 'name' | 'out' | 'err'> = {};
  for (const key of ['name', 'out', 'err'] as const) {
    const value = (opts[key] as string | undefined) ?? script[key];
    if (value !== undefined) names[key] = value;
  }
  const problem = namesProblem(names);
  if (problem !== null) throw invalid(problem);
  return names;
}

/** The options `sub` and `load` share, as the template fields they set (`script`: what a script's directives set). */
export function sharedOptions(opts: Record<string, unknown>, script: Pick<Template, 'name' | 'out' | 'err'> = {}): Partial<Template> {
  return {
    ...namesOf(opts, script),
    ...(opts['priority'] === undefined ? {} : { priority: parsePriority(opts['priority'] as string) }),
    ...(opts['time'] === undefined ? {} : { time: parseTime(opts['time'] as string) }),
    ...(opts['retry'] === undefined ? {} : { retries: parseRetries(opts['retry'] as string) }),
    ...(opts['after'] === undefined ? {} : { after: parseIdsOption('--after', opts['after'] as string) }),
    ...(opts['afterok'] === undefined ? {} : { afterok: parseIdsOption('--afterok', opts['afterok'] as string) }),
    ...(opts['notify'] === undefined ? {} : { notify: parseNotify(opts['notify'] as string) }),
  };
}

/** Parse --notify: when the notifiers run (end, fail or all). */
export function parseNotify(raw: string, what = '--notify'): NotifyWhen {
  const v = raw.trim();
  if (!(NOTIFY_WHEN as readonly string[]).includes(v)) throw invalid(`${what} takes ${NOTIFY_WHEN.join(', ')}, not '${raw}'`);
  return v as NotifyWhen;
}

/** `--array A-B[%N]` (or `--array N`, meaning 1-N): the indices and the cap on how many run at once. */
export function parseArraySpec(raw: string): { first: number; last: number; cap: number | null } {
  const m = /^(?:(\d{1,9})-)?(\d{1,9})(?:%(\d{1,9}))?$/.exec(raw.trim());
  const first = m ? Number(m[1] ?? 1) : NaN;
  const last = m ? Number(m[2]) : NaN;
  const cap = m?.[3] === undefined ? null : Number(m[3]);
  if (!m || last < first || cap === 0 || last - first + 1 > 2_000_000)
    throw invalid(`--array needs FIRST-LAST[%MAX] (e.g. 1-1000%50, at most 2,000,000 jobs), not '${raw}'`);
  return { first, last, cap };
}

/** Parse the ID list of --after / --afterok. */
function parseIdsOption(flag: string, raw: string): [number, number][] {
  const r = parseIdList(raw);
  if (r === null) throw invalid(`${flag} needs job IDs (3,5-7), not '${raw}'`);
  return r;
}

/** Parse --retry: how many more runs a failing job gets (0–1000). */
function parseRetries(raw: string): number {
  if (!/^\d{1,4}$/.test(raw.trim()) || Number(raw) > 1000) throw invalid(`--retry needs a whole number from 0 to 1000, not '${raw}'`);
  return Number(raw);
}

/** Parse -t: seconds, 0 for `none` (which overrides the defaultTime setting). */
export function parseTime(raw: string, what = '-t'): number {
  const t = parseTimeLimit(raw);
  if (!t.ok) throw invalid(`${what}: ${t.message}`);
  return t.seconds ?? 0;
}

/** Parse a priority: a whole number, possibly negative. */
export function parsePriority(raw: string): number {
  if (!/^-?\d{1,7}$/.test(raw.trim())) throw invalid(`--priority needs a whole number, not '${raw}'`);
  return Number(raw);
}

/** Parse a memory amount in GB: a number ≥ 0. */
export function parseMem(raw: string, what = '-m'): number {
  const t = raw.trim();
  if (!/^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) throw invalid(`${what} needs an amount of memory in GB (0 or more), not '${raw}'`);
  return Number(t);
}

/** The file the command's first word names (as sh would find it relative to `cwd`, `~/` expanded), if it is a regular file. */
function scriptFile(command: string, cwd: string): { path: string; wordEnd: number } | null {
  const span = scriptWordSpan(command);
  if (!span) return null;
  const word = span.word;
  const path = word.startsWith('~/') ? join(homedir(), word.slice(2)) : isAbsolute(word) ? word : join(cwd, word);
  try {
    return statSync(path).isFile() ? { path, wordEnd: span.end } : null;
  } catch {
    return null;
  }
}

/** A script's text, if it is a text file of at most 4 MiB (directives are read from it). */
function readScript(path: string): string | null {
  try {
    if (statSync(path).size > 4 * 1024 * 1024) return null;
    const buf = readFileSync(path);
    return looksLikeText(buf) ? buf.toString('utf8') : null;
  } catch {
    return null;
  }
}

export const sub: CommandDef = {
  name: 'sub',
  summary: 'Submit a job: qpy sub [-n CORES] [-m GB] [-g GPUS] [-t LIMIT] [-a EXPR] [-W] COMMAND [ARGS...]',
  configure(cmd: Command) {
    cmd
      .argument('<command...>', 'the command to run (one argument: a shell command line; several: words passed exactly)')
      .option('-n, --cores <N>', `number of cores (default ${DEFAULT_CORES})`)
      .option('-m, --mem <GB>', `memory in GB (default ${DEFAULT_MEM_GB})`)
      .addOption(new Option('--memory <GB>').hideHelp())
      .option('-g, --gpus <N>', 'number of GPUs, distinct devices of its node, in CUDA_VISIBLE_DEVICES (default 0: it sees none)')
      .option('-t, --time <LIMIT>', 'time limit: MM, HH:MM:SS or D-HH:MM:SS (none: no limit; default: the defaultTime setting)')
      .option('-a, --attributes <EXPR>', 'node attribute expression, e.g. "big and not gpu"')
      .addOption(new Option('--node_attr <EXPR>').hideHelp())
      .option('--array <A-B[%N]>', 'one job per index A..B (QPY_ARRAY_INDEX), at most N of them running at once')
      .option('--after <IDS>', 'start once these jobs have ended, however (ID lists: 3,5-7)')
      .option('--afterok <IDS>', 'start once these jobs all ended done; if one does not, this job ends undone')
      .option('--retry <N>', 'queue it again, up to N times, when it fails (not when killed); QPY_ATTEMPT tells the run')
      .option('-p, --priority <N>', 'higher starts first (a whole number, default 0; ties keep submission order)')
      .option('-J, --name <NAME>', 'a name for the job: check shows it (%J), the job gets it as QPY_JOB_NAME')
      .option('--out <PATTERN>', 'its standard output file (default job_%j.out): %j job ID, %a array index, %x name, %% a %')
      .option('--err <PATTERN>', 'its standard error file (default job_%j.err; the --out pattern: into that file)')
      .option(
        '--notify <EVENT>',
        'run your notifyCommand / mail your notifyMail at its end (end), at an end other than done (fail), or at its start too (all)',
      )
      .option('-c, --copyScript', 'run a copy of the script, taken now (default: the copyScripts setting)')
      .option('-o, --originalScript', 'run the script itself, as it is when the job starts')
      .option('-W, --wait', 'then wait until the job (every job of an array) is final, as qpy wait does; exit 1 if it did not end done')
      .passThroughOptions();
  },
  complete: (args) => {
    // Options and their values first; then the command's name; then files.
    let i = 0;
    while (i < args.length && args[i]!.startsWith('-'))
      i +=
        /^-(n|m|g|t|a|p|J)$|^--(cores|mem|memory|gpus|time|attributes|node_attr|priority|after|afterok|retry|array|name|out|err|notify)$/.test(
          args[i]!,
        )
          ? 2
          : 1;
    if (i > args.length) return { kind: 'none' }; // completing an option's value
    return i === args.length ? { kind: 'commands' } : { kind: 'files' };
  },
  async run(ctx, args, opts) {
    const command = joinCommand(args);
    const memFlag = (opts['mem'] ?? opts['memory']) as string | undefined;
    const attrFlag = (opts['attributes'] ?? opts['node_attr']) as string | undefined;
    let cores = opts['cores'] === undefined ? undefined : parseCores(opts['cores'] as string);
    let memGB = memFlag === undefined ? undefined : parseMem(memFlag);
    let gpus = opts['gpus'] === undefined ? undefined : parseGpus(opts['gpus'] as string);
    let attrs = attrFlag;
    let notify: NotifyWhen | undefined;
    if (opts['copyScript'] && opts['originalScript'])
      throw invalid('give either -c (copy the script) or -o (the original script), not both');
    let copyScript = opts['copyScript'] ? true : opts['originalScript'] ? false : undefined;
    const file = scriptFile(command, ctx.cwd);
    const script = file === null ? null : readScript(file.path);
    let named: Pick<Template, 'name' | 'out' | 'err'> = {};
    if (script !== null) {
      const d = parseDirectives(script);
      if (!d.ok) throw invalid(`${scriptWord(command)}, line ${d.line}: ${d.message}`);
      cores ??= d.values.cores;
      memGB ??= d.values.memGB;
      gpus ??= d.values.gpus;
      attrs ??= d.values.attrs;
      copyScript ??= d.values.copyScript;
      if (opts['time'] === undefined && d.values.time !== undefined) opts['time'] = d.values.time;
      named = d.values;
      notify = d.values.notify;
    }
    const template: Template = {
      cwd: ctx.cwd,
      cores: cores ?? DEFAULT_CORES,
      memGB: memGB ?? DEFAULT_MEM_GB,
      attrs: attrs ?? null,
      ...(gpus === undefined || gpus === 0 ? {} : { gpus }),
      ...(notify === undefined ? {} : { notify }),
      ...sharedOptions(opts, named),
    };
    const master = await ctx.master();
    if (opts['array'] !== undefined) {
      const { first, last, cap } = parseArraySpec(opts['array'] as string);
      const reply = await master.request(
        { type: 'submitMany', template, kind: 'array', commands: [command], indices: [first, last], cap, stage: null, last: true },
        600_000,
      );
      if (reply.type !== 'submittedMany') return;
      ctx.out(`Jobs ${reply.first}-${reply.last} received (array ${reply.first}).\n`);
      if (opts['wait'] && reply.first !== null && reply.last !== null) await waitUntilFinal(ctx, master, [[reply.first, reply.last]]);
      return;
    }
    const reply = await master.request({
      type: 'submit',
      command,
      ...template,
      ...(copyScript === undefined ? {} : { copyScript }),
      ...(file === null ? {} : { script: file }),
    });
    if (reply.type !== 'submitted') return;
    ctx.out(formatSubmitted(reply.jobId));
    if (opts['wait']) await waitUntilFinal(ctx, master, [[reply.jobId, reply.jobId]]);
  },
};
