/**
 * Rendering of jobs for `qpy check` with the user's checkFMT pattern
 * (spec §5.4). Pure: the current time is passed in as `now`.
 *
 * Differences from the original, on purpose:
 * - One left-to-right scan: text inserted by a code (a command containing
 *   `%d`, say) is never itself replaced. `%%` gives `%`; unknown codes and a
 *   lone trailing `%` stay as they are.
 * - New codes `%x` (how the job ended) and `%e` (`; ` + `%x` for ended jobs),
 *   used by the default format to show exit codes; `%J` (the job's name) and
 *   `%I` (` [` + `%J` + `]` for a named job), used by the default format to
 *   show a name (a job without one shows as it always did); and what a run used
 *   (protocol/usage.ts): `%W` wall time, `%U` CPU time, `%M` peak memory,
 *   `%C` CPU efficiency, `%P` memory efficiency; and the GPUs a run held
 *   (issue 16): `%G` their device indices, `%g` `; GPUs ` + `%G` when it held
 *   any (`qpy history`'s default format shows it).
 * - Times print in local time as `YYYY-MM-DD HH:MM:SS.ffffff` always with six
 *   fraction digits (jobs store milliseconds, so the last three are usually
 *   `000`); durations print like Python's timedelta but without the fraction:
 *   `H:MM:SS` or `N day(s), H:MM:SS`, truncated to whole seconds; a negative
 *   duration (clock skew) prints with a leading `-`.
 */
import { shownStatus, type Job, type JobStatus, type Outcome } from '../protocol/job.js';
import type { Colour } from '../protocol/settings.js';
import { paint } from './colour.js';
import { formatTimeLimit } from '../protocol/time-limit.js';
import { formatCpuTime, formatDuration, formatKB, formatOutcome, formatShare, NODE_WENT_DOWN, runFigures } from '../protocol/usage.js';

/**
 * The default checkFMT (protocol/settings.ts): the original's plus `%e` inside the parentheses, so
 * an ended job shows how it ended: `3 (failed):x (on node1; wd: /w; exit 3)`.
 */
export { DEFAULT_CHECK_FORMAT } from '../protocol/settings.js';

/** Appended by `formatCheck` when job submission is paused. */
export const PAUSED_LINE = 'Job submission is paused.\n';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** A time (ms since the epoch) as `YYYY-MM-DD HH:MM:SS.ffffff`, local time. */
export function formatTime(ms: number): string {
  const totalUs = Math.round(ms * 1000);
  const us = ((totalUs % 1_000_000) + 1_000_000) % 1_000_000;
  const d = new Date((totalUs - us) / 1000);
  return (
    `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(us, 6)}`
  );
}

export { formatDuration, formatOutcome };

/** A number as Python's `repr(float)` writes it: `5.0`, `0.01`, `1e-05`, `1.5e+16`. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    return `${mantissa}e${exp < 0 ? '-' : '+'}${pad(Math.abs(exp))}`;
  }
  const s = String(x);
  return s.includes('.') ? s : `${s}.0`;
}

/** `%x` of a queued job: `held`, and the jobs it was submitted to wait for (`after 3`, `afterok 5-7`). */
function waitsFor(job: Job): string {
  const parts: string[] = [];
  if (job.state.type === 'queue' && job.state.held) parts.push('held');
  const list = (r: readonly (readonly [number, number])[]) => r.map(([a, b]) => (a === b ? String(a) : `${a}-${b}`)).join(',');
  if (job.spec.after?.length) parts.push(`after ${list(job.spec.after)}`);
  if (job.spec.afterok?.length) parts.push(`afterok ${list(job.spec.afterok)}`);
  return parts.join('; ');
}

export { NODE_WENT_DOWN };

/** `%x` of a job ended by a limit: which limit, and how its process ended (`time limit 0:01:00 reached (signal TERM)`). */
function limitReached(job: Job, outcome: string): string {
  const s = job.state;
  if (s.type === 'timeout') return `time limit ${formatTimeLimit(job.spec.time ?? 0)} reached (${outcome})`;
  if (s.type === 'out_of_memory' && s.by === 'kernel') return `killed by the kernel's OOM killer (${outcome})`;
  return `memory limit ${pyFloat(job.spec.memGB)} GB exceeded (${outcome})`;
}

interface Times {
  node: string | null;
  startedAt: number | null;
  endedAt: number | null;
  outcome: Outcome | null;
}

function timesOf(job: Job): Times {
  const s = job.state;
  switch (s.type) {
    case 'queue':
      return { node: null, startedAt: null, endedAt: null, outcome: null };
    case 'running':
      return { node: s.node, startedAt: s.startedAt, endedAt: null, outcome: null };
    case 'done':
    case 'failed':
    case 'killed':
    case 'timeout':
    case 'out_of_memory':
      return { node: s.node, startedAt: s.startedAt, endedAt: s.endedAt, outcome: s.outcome };
    case 'undone':
      return { node: null, startedAt: null, endedAt: s.endedAt, outcome: null };
    case 'node_failed':
      return { node: s.node, startedAt: s.startedAt, endedAt: s.endedAt, outcome: null };
  }
}

/** `%R`: queued for queued jobs, running time for running ones, end − start otherwise. */
function elapsed(job: Job, t: Times, now: number): string {
  if (job.state.type === 'queue') return formatDuration(now - job.queuedAt);
  if (t.startedAt === null) return 'None';
  return formatDuration((t.endedAt ?? now) - t.startedAt);
}

/**
 * Formats one job with a checkFMT pattern. Codes: `%K` (newline + note, or
 * empty), `%j` ID, `%s` status, `%c` command, `%d` directory, `%a`
 * attributes, `%N` cores, `%m` memory (`5.0`), `%n` node or `None`, `%A` node
 * or `[attributes]`, `%Q` queue time, `%S` start time or `None`, `%E` end
 * time or `None`, `%R` elapsed time or `None`, `%T` time limit or `None`, `%x`
 * how it ended (empty if it has not), `%e` `; ` + `%x` when it ended (else empty), `%J` its name
 * (`--name`; empty if none), `%I` ` [NAME]` when it has one (else empty),
 * `%%` a `%`. What the run used, `None` until it has ended and where it
 * was not measured: `%W` wall time (so far, while it runs), `%U` CPU time
 * (user + system, `H:MM:SS.ff`), `%M` peak memory, PSS or resident (`60.0M`), `%C`
 * CPU efficiency (CPU ÷ cores × wall: `93.4%`), `%P` memory efficiency
 * (peak ÷ `-m`). `%G` the GPUs the run holds or held (`0,1`; `None`
 * where none), `%H` the GPU-hours of an ended run that held any (its GPUs ×
 * its wall time, `0.50`; else `None`), `%g` `; GPUs ` + `%G` where it held
 * any, and `, %H GPU-hours` once it has ended (else empty).
 * `idText` is what `%j` shows (`qpy history`: `5-900` for a record standing for a run of IDs).
 */
export function formatJob(job: Job, fmt: string, now: number, note?: string, idText = String(job.id)): string {
  const t = timesOf(job);
  const attrs = job.spec.attrs ?? '';
  const how =
    job.state.type === 'node_failed'
      ? NODE_WENT_DOWN
      : job.state.type === 'queue'
        ? waitsFor(job)
        : job.state.type === 'undone'
          ? (job.state.reason ?? '')
          : t.outcome === null
            ? ''
            : job.state.type === 'timeout' || job.state.type === 'out_of_memory'
              ? limitReached(job, formatOutcome(t.outcome))
              : formatOutcome(t.outcome);
  const run = runFigures(job, now);
  const gpus = 'gpus' in job.state && job.state.gpus !== undefined ? job.state.gpus.join(',') : '';
  // GPU-hours of a run that ended: its GPUs × its wall time (as qpy-admin report counts them).
  const gpuHours =
    gpus === '' || run === null || job.state.type === 'running' || !('gpus' in job.state)
      ? null
      : ((job.state.gpus?.length ?? 0) * (run.wallMs / 3_600_000)).toFixed(2);
  const or = (x: number | null | undefined, show: (x: number) => string): string => (x === null || x === undefined ? 'None' : show(x));
  // A job run more than once says which run this is.
  const ended = job.attempts?.length ? [how, `attempt ${job.attempts.length + 1}`].filter((x) => x !== '').join('; ') : how;
  const code = (c: string): string | null => {
    switch (c) {
      case 'K':
        return note === undefined || note === '' ? '' : `\n${note}`;
      case 'j':
        return idText;
      case 's':
        return shownStatus(job);
      case 'c':
        return job.spec.command;
      case 'd':
        return job.spec.cwd;
      case 'a':
        return attrs;
      case 'N':
        return String(job.spec.cores);
      case 'm':
        return pyFloat(job.spec.memGB);
      case 'n':
        return t.node ?? 'None';
      case 'A':
        return t.node ?? `[${attrs}]`;
      case 'Q':
        return formatTime(job.queuedAt);
      case 'S':
        return t.startedAt === null ? 'None' : formatTime(t.startedAt);
      case 'E':
        return t.endedAt === null ? 'None' : formatTime(t.endedAt);
      case 'R':
        return elapsed(job, t, now);
      case 'T':
        return job.spec.time === undefined ? 'None' : formatTimeLimit(job.spec.time);
      case 'x':
        return ended;
      case 'e':
        return ended === '' ? '' : `; ${ended}`;
      case 'J':
        return job.spec.name ?? '';
      case 'I':
        return job.spec.name === undefined ? '' : ` [${job.spec.name}]`;
      case 'W':
        return or(run?.wallMs, formatDuration);
      case 'U':
        return or(run?.cpuMs, formatCpuTime);
      case 'M':
        return or(run?.usage?.peakKB, formatKB);
      case 'C':
        return or(run?.cpuShare, formatShare);
      case 'P':
        return or(run?.memShare, formatShare);
      case 'G':
        return gpus === '' ? 'None' : gpus;
      case 'g':
        return gpus === '' ? '' : `; GPUs ${gpus}${gpuHours === null ? '' : `, ${gpuHours} GPU-hours`}`;
      case 'H':
        return gpuHours ?? 'None';
      case '%':
        return '%';
      default:
        return null;
    }
  };
  let out = '';
  let i = 0;
  while (i < fmt.length) {
    const p = fmt.indexOf('%', i);
    if (p < 0 || p === fmt.length - 1) {
      out += fmt.slice(i);
      break;
    }
    out += fmt.slice(i, p);
    const c = fmt.charAt(p + 1);
    const value = code(c);
    out += value ?? `%${c}`;
    i = p + 2;
  }
  return out;
}

/**
 * Formats the whole `check` reply: each job with `fmt` (notes by job ID, if
 * given, feed `%K`), wrapped in its status colour when `colourOf` is given,
 * then `Job submission is paused.\n` when paused.
 */
export function formatCheck(
  jobs: readonly Job[],
  fmt: string,
  now: number,
  paused: boolean,
  notes?: ReadonlyMap<number, string>,
  colourOf?: (status: JobStatus) => Colour,
  /** Lines to place among the jobs' by ID (`check --groups`: an array's line at its first job), in ID order. */
  more: readonly { id: number; text: string }[] = [],
): string {
  const lines = new CheckLines(fmt, now, colourOf, more);
  return lines.page(jobs, notes) + lines.end(paused);
}

/** The lines of a check listing that comes a page at a time: formatCheck, page by page. */
export class CheckLines {
  private m = 0;

  constructor(
    private readonly fmt: string,
    private readonly now: number,
    private readonly colourOf: ((status: JobStatus) => Colour) | undefined,
    /** Lines to place among the jobs' by ID (`check --groups`: an array's line at its first job), in ID order. */
    private readonly more: readonly { id: number; text: string }[],
  ) {}

  /** The lines of one page's jobs, with the extra lines that go before them. */
  page(jobs: readonly Job[], notes?: ReadonlyMap<number, string>): string {
    let out = '';
    for (const job of jobs) {
      while (this.m < this.more.length && this.more[this.m]!.id < job.id) out += this.more[this.m++]!.text;
      const text = formatJob(job, this.fmt, this.now, notes?.get(job.id));
      out += this.colourOf ? paint(text, this.colourOf(job.state.type)) : text;
    }
    return out;
  }

  /** The extra lines left, then `Job submission is paused.` when it is. */
  end(paused: boolean): string {
    let out = '';
    while (this.m < this.more.length) out += this.more[this.m++]!.text;
    return paused ? out + PAUSED_LINE : out;
  }
}
