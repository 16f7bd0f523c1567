/**
 * The run directory's per-job files and how to read them (local file system).
 *
 * Each launch ATTEMPT of a job has a key: `<id>` for the first, `<id>.a<n>`
 * for later ones, and ONE file `<key>.run` (one file, because creating an
 * inode is the dearest step of a launch on ext4 here, ~0.8 ms):
 *   line 1, the claim, created exclusively: the wrapper's pid, or `none` when
 *     a restarted master blocked a launch that had not started;
 *   line 2, the status, appended by the wrapper when the command ended:
 *     `exit <status>` or `error <reason>`.
 * Each line is written by one write(2) and counts only once its newline is
 * there. Attempts are contiguous: attempt n exists only if attempt n-1's file
 * exists. A blocked attempt keeps its `none` file, so a late wrapper of that
 * attempt can never run, and a relaunch uses the next key.
 */
import { constants as osConstants } from 'node:os';
import { closeSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Outcome } from '../protocol/job.js';
import { WRAPPER_NAME } from './wrapper.js';

/** A live wrapper process: pid plus its /proc start time (null where /proc is missing). */
export interface ProcRecord {
  pid: number;
  start: string | null;
}

/** A run file's meaning: its claim, and the end once the wrapper recorded it. */
export type RunFile = { kind: 'none' } | { kind: 'incomplete' } | { kind: 'pid'; pid: number; end: EndRecord | null };

/** A recorded end (from a complete status line). */
export interface EndRecord {
  outcome: Outcome;
  error?: string;
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

function exists(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false }) !== undefined;
}

/** The last attempt of a job that has a run file, or -1. The next launch uses the one after. */
export function lastAttempt(runDir: string, jobId: number): number {
  let n = 0;
  while (exists(runPath(runDir, attemptKey(jobId, n)))) n++;
  return n - 1;
}

/** Create `path` exclusively with `text`; false if it already exists. */
export function createExclusive(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Parse a run file's text (never throws: a corrupt claim reads as incomplete). */
export function parseRunFile(text: string): RunFile {
  const nl = text.indexOf('\n');
  if (nl < 0) return { kind: 'incomplete' };
  const word = text.slice(0, nl);
  if (word === 'none') return { kind: 'none' };
  const pid = Number(word);
  if (!/^[0-9]+$/.test(word) || !Number.isSafeInteger(pid) || pid <= 1) return { kind: 'incomplete' }; // corrupt: never a valid claim
  return { kind: 'pid', pid, end: parseStatus(text.slice(nl + 1)) };
}

/** A key's run file, or null when it does not exist. */
export function readRunFile(runDir: string, key: string): RunFile | null {
  const text = readText(runPath(runDir, key));
  return text === null ? null : parseRunFile(text);
}

/** A key's recorded end, or null (no file, or not ended yet). */
export function readEnd(runDir: string, key: string): EndRecord | null {
  const f = readRunFile(runDir, key);
  return f?.kind === 'pid' ? f.end : null;
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
  output: 'cannot create job_<ID>.out / job_<ID>.err in the job directory',
};

/** Parse a status line; null while it is absent or incomplete. */
export function parseStatus(text: string): EndRecord | null {
  if (!text.endsWith('\n')) return null;
  const [kind, value = ''] = text.trim().split(/\s+/);
  if (kind === 'exit' && /^[0-9]+$/.test(value)) return { outcome: statusToOutcome(Number(value)) };
  if (kind === 'error')
    return {
      outcome: { type: 'exit', code: 126 },
      error: Object.hasOwn(SETUP_ERRORS, value) ? SETUP_ERRORS[value] : `wrapper error: ${value}`,
    };
  return { outcome: { type: 'lost' }, error: `corrupt status line ${JSON.stringify(text.slice(0, 80))}` };
}

/** Remove every run file of a job (all attempts). */
export function removeRunFiles(runDir: string, jobId: number): void {
  for (let n = lastAttempt(runDir, jobId); n >= 0; n--) {
    try {
      unlinkSync(runPath(runDir, attemptKey(jobId, n)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

const HAVE_PROC = readText('/proc/self/stat') !== null;

/** State letter, process group and start time of a process from /proc, or null if it is gone. */
function procStat(pid: number | string): { state: string; pgrp: number; start: string } | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // "pid (comm) state ppid pgrp …": the fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgrp: Number(fields[2]), start: fields[19] ?? '' };
}

const dead = (state: string): boolean => state === 'Z' || state === 'X';

/**
 * Does any live process of group `pgid` still exist? Zombies do not count: a
 * job's child whose parent died first is re-parented to init, and an init
 * that reaps slowly (as in some containers and VMs) would otherwise keep a
 * finished group looking alive until the KILL deadline.
 */
export function groupAlive(pgid: number): boolean {
  if (pgid <= 0 || !pidExists(-pgid)) return false;
  if (!HAVE_PROC) return true;
  for (const p of readdirSync('/proc')) {
    if (p.charCodeAt(0) < 48 || p.charCodeAt(0) > 57) continue;
    const st = procStat(p);
    if (st && st.pgrp === pgid && !dead(st.state)) return true;
  }
  return false;
}

/**
 * Is `pid` alive and really the wrapper of `key` in `runDir`? Its record if so.
 * With /proc: a zombie counts as dead (a non-reaping init may leave one) and
 * the wrapper's argv (`qpy-job RUN KEY …`, unique per launch) must match, so a
 * reused pid is never mistaken for the job. Without /proc: kill(pid, 0).
 */
export function identify(pid: number, runDir: string, key: string): ProcRecord | null {
  if (!HAVE_PROC) return pidExists(pid) ? { pid, start: null } : null;
  const st = procStat(pid);
  if (!st || dead(st.state)) return null;
  const needle = Buffer.from(`\0${WRAPPER_NAME}\0${runDir}\0${key}\0`).toString('latin1');
  if (!readText(`/proc/${pid}/cmdline`)?.includes(needle)) return null;
  return { pid, start: st.start };
}

/** Is the process identified earlier still alive (not a zombie, not a reused pid)? */
export function isAlive(rec: ProcRecord): boolean {
  if (rec.start === null) return pidExists(rec.pid);
  const st = procStat(rec.pid);
  return st !== null && !dead(st.state) && st.start === rec.start;
}

/** Does a process with this pid exist (zombies included)? */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
