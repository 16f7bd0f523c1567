/**
 * The local executor: runs jobs on this machine through the POSIX wrapper
 * (wrapper.ts), detached with setsid so they survive the master's death.
 *
 * End detection: jobs launched in this life are children of this process
 * (spawned from a worker thread, see spawner.ts, so that forking costs the
 * event loop nothing), so their exit is known at once and the run file's
 * status line is read then. Adopted jobs (from an earlier life) are watched with fs.watch on the
 * run directory plus a poll every `pollMs` (status line, else is the wrapper
 * still alive?); watcher and timer exist only while adopted jobs are watched.
 * A dead wrapper without a status line ends as KILL if this life KILLed it,
 * else as `lost`.
 */
import { createSpawner } from './spawner.js';
import { mkdirSync, realpathSync, watch, type FSWatcher } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { AdoptResult, Executor, JobEnded, LaunchSpec } from './executor.js';
import { CLAIM_FAILED_STATUS, wrapperArgv } from './wrapper.js';
import {
  attemptKey, createExclusive, groupAlive, identify, isAlive, lastAttempt, readEnd, readRunFile, removeRunFiles, runPath, type EndRecord, type ProcRecord,
} from './run-files.js';

/** Options of `createLocalExecutor`. */
export interface LocalExecutorOptions {
  /** Absolute directory for the run files (the master uses `$QPY_DIR/run`). */
  runDir: string;
  /** This node's name: QPY_NODE unless the launch spec sets it. */
  nodeName: string;
  /** Poll period for adopted jobs (ms). */
  pollMs?: number;
  /** How long `adopt` waits for a half-written claim to be completed (ms). */
  claimWaitMs?: number;
}

interface Tracked {
  jobId: number;
  key: string;
  pid: number;
  proc: ProcRecord | null;
  /** Launched in this life: a child of this process, whose exit event reports its end. */
  child: boolean;
  ended: boolean;
  killSent: boolean;
}

/** When `kill` sends its second TERM (see there). */
const TERM_REPEAT_MS = 250;

const KILLED: EndRecord = { outcome: { type: 'signal', signal: 'KILL' } };
const LOST: EndRecord = { outcome: { type: 'lost' } };

/** Create an executor that runs jobs on this machine. */
export function createLocalExecutor(opts: LocalExecutorOptions): Executor {
  const { nodeName, pollMs = 1000, claimWaitMs = 2000 } = opts;
  if (!opts.runDir.startsWith('/')) throw new Error(`run directory must be absolute: ${opts.runDir}`);
  mkdirSync(opts.runDir, { recursive: true, mode: 0o700 });
  // Canonical, so that every life passes the wrapper the same RUN (its identity check relies on it).
  const runDir = realpathSync(opts.runDir);
  // A snapshot: building the environment from process.env on every spawn costs ~15% of a launch.
  const spawner = createSpawner({ ...process.env });

  const listeners: ((e: JobEnded) => void)[] = [];
  const jobs = new Map<number, Tracked>();
  const adopted = new Map<string, Tracked>(); // by run key
  const reported = new Set<number>();
  let watcher: FSWatcher | null = null;
  let poller: NodeJS.Timeout | null = null;
  let closed = false;

  function end(t: Tracked, rec: EndRecord): void {
    if (t.ended || closed) return;
    t.ended = true;
    if (jobs.get(t.jobId) === t) jobs.delete(t.jobId);
    unwatch(t);
    reported.add(t.jobId);
    const e: JobEnded = { jobId: t.jobId, outcome: rec.outcome };
    if (rec.error !== undefined) e.error = rec.error;
    for (const l of listeners) l(e);
  }

  function onChildExit(t: Tracked, code: number | null, signal: NodeJS.Signals | null): void {
    const status = readEnd(runDir, t.key);
    if (status) return end(t, status);
    if (signal) return end(t, { outcome: { type: 'signal', signal: signal.replace(/^SIG/, '') } });
    if (code === CLAIM_FAILED_STATUS) return end(t, { outcome: { type: 'lost' }, error: 'launch blocked: claim file already existed' });
    end(t, t.killSent ? KILLED : LOST);
  }

  /** Check an adopted job; with `liveness`, also decide a dead wrapper's fate. */
  function check(t: Tracked, liveness: boolean): void {
    if (t.ended) return;
    const status = readEnd(runDir, t.key);
    if (status) return end(t, status);
    if (!liveness || (t.proc && isAlive(t.proc))) return;
    end(t, readEnd(runDir, t.key) ?? (t.killSent ? KILLED : LOST));
  }

  function watchAdopted(t: Tracked): void {
    adopted.set(t.key, t);
    if (!watcher) {
      try {
        watcher = watch(runDir, { persistent: false }, (_event, name) => {
          const f = name?.toString();
          if (f?.endsWith('.run')) {
            const t2 = adopted.get(f.slice(0, -'.run'.length));
            if (t2) check(t2, false);
          }
        });
        watcher.on('error', () => undefined); // the poll still covers everything
      } catch {
        watcher = null;
      }
    }
    if (!poller) {
      poller = setInterval(() => {
        for (const t2 of [...adopted.values()]) check(t2, true);
      }, pollMs);
      poller.unref();
    }
  }

  function unwatch(t: Tracked): void {
    if (!adopted.delete(t.key) || adopted.size > 0) return;
    watcher?.close();
    watcher = null;
    if (poller) clearInterval(poller);
    poller = null;
  }

  /** Read the run file of `key`, waiting a little for a half-written claim. */
  async function readClaim(key: string) {
    const deadline = performance.now() + claimWaitMs;
    for (;;) {
      const claim = readRunFile(runDir, key);
      if (claim?.kind !== 'incomplete' || performance.now() > deadline) return claim;
      await delay(10);
    }
  }

  async function adopt(jobId: number, pid: number | null): Promise<AdoptResult> {
    if (closed) throw new Error('executor is closed');
    if (jobs.has(jobId)) return 'running';
    if (reported.has(jobId)) return 'ended';
    for (;;) {
      const last = lastAttempt(runDir, jobId);
      const claim = last < 0 ? null : await readClaim(attemptKey(jobId, last));
      // No claim, a blocked attempt, or a claim by another process than the one the
      // master knows: the launch in question (attempt last+1) has not claimed yet. Block it.
      if (!claim || claim.kind === 'none' || (claim.kind === 'pid' && pid !== null && claim.pid !== pid)) {
        if (createExclusive(runPath(runDir, attemptKey(jobId, last + 1)), 'none\n')) return 'never_started';
        continue; // a wrapper claimed it just now: look again
      }
      const key = attemptKey(jobId, last);
      const knownPid = claim.kind === 'pid' ? claim.pid : pid;
      const status = claim.kind === 'pid' ? claim.end : readEnd(runDir, key);
      const proc = status || knownPid === null ? null : identify(knownPid, runDir, key);
      const t: Tracked = { jobId, key, pid: knownPid ?? 0, proc, child: false, ended: false, killSent: false };
      jobs.set(jobId, t);
      if (proc) {
        watchAdopted(t);
        return 'running';
      }
      const rec = status ?? readEnd(runDir, key) ?? LOST;
      setImmediate(() => end(t, rec));
      return 'ended';
    }
  }

  async function launch(spec: LaunchSpec): Promise<{ pid: number }> {
    if (closed) throw new Error('executor is closed');
    if (jobs.has(spec.jobId)) throw new Error(`job ${spec.jobId} is already running`);
    reported.delete(spec.jobId);
    const key = attemptKey(spec.jobId, lastAttempt(runDir, spec.jobId) + 1);
    const argv = wrapperArgv({
      runDir, key, jobId: spec.jobId, cwd: spec.cwd, command: spec.command,
      env: { QPY_NODE: nodeName, ...spec.env },
    });
    const t: Tracked = { jobId: spec.jobId, key, pid: 0, proc: null, child: true, ended: false, killSent: false };
    jobs.set(spec.jobId, t);
    try {
      t.pid = await spawner.spawn('/bin/sh', argv, (code, signal) => onChildExit(t, code, signal));
    } catch (err) {
      jobs.delete(spec.jobId);
      throw new Error(`cannot start job ${spec.jobId}: ${(err as Error).message}`);
    }
    const pid = t.pid;
    return { pid };
  }

  function pidOf(jobId: number): number | null {
    const t = jobs.get(jobId);
    return t && t.pid > 1 ? t.pid : null;
  }

  async function kill(jobId: number, pid: number, graceMs: number): Promise<void> {
    if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`invalid process group id ${pid}`);
    const t = jobs.get(jobId);
    if (!t) {
      // Unknown in this life: if it recorded its end, its pgid may have been reused: leave it.
      const last = lastAttempt(runDir, jobId);
      if (reported.has(jobId) || (last >= 0 && readEnd(runDir, attemptKey(jobId, last)))) return;
    }
    if (!signalGroup(pid, 'SIGTERM')) return;
    const start = performance.now();
    const deadline = start + graceMs;
    let repeated = false;
    for (let wait = 5; performance.now() < deadline; wait = Math.min(wait * 2, 100)) {
      await delay(Math.min(wait, Math.max(1, deadline - performance.now())));
      if (!groupAlive(pid)) return;
      // One more TERM after a moment: a POSIX shell cannot block signals, so a TERM that reaches
      // the wrapper's freshly forked subshell before it has dropped the wrapper's trap is
      // swallowed, and the command then starts anyway (seen on a loaded machine).
      if (!repeated && performance.now() - start >= TERM_REPEAT_MS && performance.now() < deadline) {
        repeated = true;
        if (!readEnd(runDir, attemptKey(jobId, lastAttempt(runDir, jobId)))) signalGroup(pid, 'SIGTERM');
      }
    }
    if (t) t.killSent = true;
    if (signalGroup(pid, 'SIGKILL') && t && !t.child) setTimeout(() => check(t, true), 50).unref();
  }

  return {
    launch,
    adopt,
    kill,
    pidOf,
    onEnded(listener) {
      listeners.push(listener);
    },
    forget(jobId) {
      if (jobs.has(jobId)) return; // still running: its files are needed
      reported.delete(jobId);
      removeRunFiles(runDir, jobId);
    },
    async close() {
      closed = true;
      await spawner.close();
      jobs.clear();
      adopted.clear();
      watcher?.close();
      watcher = null;
      if (poller) clearInterval(poller);
      poller = null;
    },
  };
}

/** Send a signal to a process group; false if the group no longer exists. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

