/**
 * The run directory's per-job files: their format, and how to parse them
 * (the agent reads them on the node, agent-script.ts; readRunFile reads one
 * here, for tests).
 *
 * Each launch ATTEMPT of a job has a key: `<id>` for the first, `<id>.a<n>`
 * for later ones, and ONE file `<key>.run` (one file, because creating an
 * inode is the dearest step of a launch on ext4 here, ~0.8 ms):
 *   line 1, the claim, created exclusively: `<pid> <start>`, the job's pid
 *     and start time (/proc/PID/stat field 22) from a waiter agent
 *     (agent-waiter.ts), or `<pid>`, the wrapper's (wrapper.ts), or `none`
 *     when a restarted master blocked a launch that had not started;
 *   then the status, appended when the command ended, by the agent that
 *     waited for it or by the wrapper: `exit <status>` (`exit <status> time`
 *     or `… memory` when the agent ended it at a limit) or `error <reason>`
 *     (a job that failed before its exec writes `error …`, and its agent then
 *     appends `exit 126`: the first status line is the one that counts);
 *   before the agent's `exit` line, in the same write, what the job used:
 *     `usage <user ms> <system ms> [<peak kB>]` (agent-waiter.ts); or, from a
 *     wrapper, the two lines `times` printed before its status (its own
 *     times, then its children's: `0m1.500s 0m0.004s`, wrapper.ts). Files
 *     written before usage was measured have neither: their end has no usage.
 * Each line is written by one write(2) and counts only once its newline is
 * there. Attempts are contiguous: attempt n exists only if attempt n-1's file
 * exists. A blocked attempt keeps its `none` file, so a late wrapper of that
 * attempt can never run, and a relaunch uses the next key.
 */
import { constants as osConstants } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Outcome, Usage } from '../protocol/job.js';
import { isEndLimit, type EndLimit } from '../protocol/usage.js';
import { TIMES_FIGURE, timesMs } from './wrapper.js';

/** A run file's meaning: its claim, and the end once the wrapper recorded it. */
export type RunFile = { kind: 'none' } | { kind: 'incomplete' } | { kind: 'pid'; pid: number; end: EndRecord | null };

/** A recorded end (from a complete status line). */
export interface EndRecord {
  outcome: Outcome;
  error?: string;
  /** The limit that ended it (`exit <status> time`, `exit <status> memory`). */
  limit?: EndLimit;
  /** What the job used, where its run file records it. */
  usage?: Usage;
}

/** Run-file prefix of attempt `attempt` of job `jobId`. */
export function attemptKey(jobId: number, attempt: number): string {
  return attempt === 0 ? String(jobId) : `${jobId}.a${attempt}`;
}

/** Path of a key's run file. */
export const runPath = (runDir: string, key: string): string => join(runDir, `${key}.run`);

/** A file's text, or null when it does not exist (a /proc file of a process that died while being read: ESRCH). */
export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw err;
  }
}

/** Parse a run file's text (never throws: a corrupt claim reads as incomplete). */
export function parseRunFile(text: string): RunFile {
  const nl = text.indexOf('\n');
  if (nl < 0) return { kind: 'incomplete' };
  const claim = text.slice(0, nl);
  if (claim === 'none') return { kind: 'none' };
  const m = /^([0-9]+)(?: [0-9]+)?$/.exec(claim);
  const pid = Number(m?.[1]);
  if (!m || !Number.isSafeInteger(pid) || pid <= 1) return { kind: 'incomplete' }; // corrupt: never a valid claim
  // The first status line counts: a waiter agent appends `exit N` after a child's own `error …` line.
  // Usage lines may come before or after it (whole lines only: the last one may not be yet).
  let end: EndRecord | null = null;
  let usage: Usage | undefined;
  const times: Usage[] = [];
  for (const line of text
    .slice(nl + 1)
    .split('\n')
    .slice(0, -1)) {
    const u = parseUsage(line);
    const t = u ? null : TIMES_LINE.exec(line);
    if (u) usage = u;
    else if (t) times.push({ userMs: timesMs(t[1]!, t[2]!, t[3]), sysMs: timesMs(t[4]!, t[5]!, t[6]) });
    else end ??= parseStatus(`${line}\n`);
  }
  // A wrapper's `times`: its own line, then its children's (the job's).
  usage ??= times[1];
  return { kind: 'pid', pid, end: end && usage ? { ...end, usage } : end };
}

const TIMES_LINE = new RegExp(`^${TIMES_FIGURE} ${TIMES_FIGURE}$`);

/** A `usage USER_MS SYS_MS [PEAK_KB]` line, or null. */
export function parseUsage(line: string): Usage | null {
  const m = /^usage ([0-9]{1,15}) ([0-9]{1,15})(?: ([0-9]{1,15}))?$/.exec(line);
  if (!m) return null;
  const usage: Usage = { userMs: Number(m[1]), sysMs: Number(m[2]) };
  if (m[3] !== undefined) usage.peakKB = Number(m[3]);
  return usage;
}

/** The end a run file records, if any. */
export const endOf = (f: RunFile | null | undefined): EndRecord | null => (f?.kind === 'pid' ? f.end : null);

/** A key's run file, or null when it does not exist. */
export function readRunFile(runDir: string, key: string): RunFile | null {
  const text = readText(runPath(runDir, key));
  return text === null ? null : parseRunFile(text);
}

/** A key's recorded end, or null (no file, or not ended yet). */
export function readEnd(runDir: string, key: string): EndRecord | null {
  return endOf(readRunFile(runDir, key));
}

const SIGNAL_NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(osConstants.signals)) {
  if (!SIGNAL_NAMES.has(num)) SIGNAL_NAMES.set(num, name.replace(/^SIG/, ''));
}

/** Name (without SIG) of a signal number, or undefined. */
export function signalName(num: number): string | undefined {
  return SIGNAL_NAMES.get(num);
}

/**
 * Outcome of a shell exit status. A status 128+N for a known signal N is
 * reported as that signal: a command that itself exits 137 looks killed by KILL.
 */
export function statusToOutcome(status: number): Outcome {
  const sig = status > 128 ? signalName(status - 128) : undefined;
  return sig ? { type: 'signal', signal: sig } : { type: 'exit', code: status };
}

const SETUP_ERRORS: Record<string, string> = {
  'cwd-missing': 'job directory does not exist',
  'cwd-notdir': 'job directory is not a directory',
  'cwd-denied': 'job directory is not accessible',
  output: 'cannot create its output files (job_<ID>.out / .err, or those --out / --err name): is their directory missing, or not writable?',
};

/** Parse one status line; null while it is absent or incomplete. */
export function parseStatus(text: string): EndRecord | null {
  if (!text.endsWith('\n')) return null;
  const [kind, value = '', why] = text.trim().split(/\s+/);
  if (kind === 'exit' && /^[0-9]+$/.test(value))
    return isEndLimit(why) ? { outcome: statusToOutcome(Number(value)), limit: why } : { outcome: statusToOutcome(Number(value)) };
  if (kind === 'error')
    return {
      outcome: { type: 'exit', code: 126 },
      error: Object.hasOwn(SETUP_ERRORS, value) ? SETUP_ERRORS[value] : `wrapper error: ${value}`,
    };
  return { outcome: { type: 'lost' }, error: `corrupt status line ${JSON.stringify(text.slice(0, 80))}` };
}
