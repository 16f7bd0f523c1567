/**
 * The local executor: runs jobs on this machine through the POSIX wrapper
 * (wrapper.ts), started in batches by small detached shells (launcher.ts),
 * each job in a process group of its own, so they survive the master's death.
 *
 * End detection: a job launched in this life notifies its end on its batch's
 * pipe, and the run file's status line is read then; the pipe's EOF settles
 * any wrapper of the batch that died without notifying. Adopted jobs (from an
 * earlier life) are watched with fs.watch on the run directory. A poll every
 * `pollMs` covers everything else (status line, else is the wrapper still
 * alive?); watcher and timer exist only while jobs are watched. A dead
 * wrapper without a status line ends as KILL if this life KILLed it, else as
 * `lost`.
 */
import { mkdirSync, realpathSync, watch, type FSWatcher } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { AdoptResult, Executor, JobEnded, LaunchSpec } from './executor.js';
import { wrapperArgs } from './wrapper.js';
import { readLocalRange } from '../file-range.js';
import { killGroup, LOST, notifiedEnd, silentEnd, type KillSignal } from './group-kill.js';
import type { BatchMode } from './launch-batch.js';
import { createLauncher, findBatchShell } from './launcher.js';
import {
  attemptKey,
  createExclusive,
  groupAlive,
  identify,
  isAlive,
  lastAttempt,
  pidExists,
  readEnd,
  readRunFile,
  removeRunFiles,
  runPath,
  type EndRecord,
  type ProcRecord,
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
  /** Force how batch shells start wrappers (tests); default: bash if present, else sh + setsid. */
  batchMode?: BatchMode;
  /** A job launched in this life is polled only once this old (ms): its notification is the fast path. */
  launchedPollAfterMs?: number;
}

interface Tracked {
  jobId: number;
  key: string;
  pid: number;
  /** Identified process (adopted at once; launched once its claim is written). */
  proc: ProcRecord | null;
  /** Launched in this life (its end is notified) at this performance.now(); 0 if adopted. */
  launchedAt: number;
  ended: boolean;
  /** The last signal this life sent to the job's group: what a wrapper that died without a status line died of. */
  signalSent: KillSignal | null;
}

/** Create an executor that runs jobs on this machine. */
export function createLocalExecutor(opts: LocalExecutorOptions): Executor {
  const { nodeName, pollMs = 1000, claimWaitMs = 2000, launchedPollAfterMs = 5000 } = opts;
  if (!opts.runDir.startsWith('/')) throw new Error(`run directory must be absolute: ${opts.runDir}`);
  mkdirSync(opts.runDir, { recursive: true, mode: 0o700 });
  // Canonical, so that every life passes the wrapper the same RUN (its identity check relies on it).
  const runDir = realpathSync(opts.runDir);
  const shell = findBatchShell();
  if (!shell) throw new Error('cannot start local jobs: this machine has neither bash nor setsid');
  if (opts.batchMode) shell.mode = opts.batchMode;
  const launcher = createLauncher({ ...process.env }, shell, {
    ended(key, status) {
      const t = byKey.get(key);
      if (t) end(t, readEnd(runDir, key) ?? notifiedEnd(status));
    },
    closed(keys) {
      for (const key of keys) {
        const t = byKey.get(key);
        if (t) end(t, readEnd(runDir, key) ?? silentEnd(t.signalSent));
      }
    },
  });

  const listeners: ((e: JobEnded) => void)[] = [];
  const jobs = new Map<number, Tracked>();
  const byKey = new Map<string, Tracked>();
  const adopted = new Map<string, Tracked>(); // watched through fs.watch, by run key
  const reported = new Set<number>();
  /** The last run-key attempt used per job in this life. */
  const usedAttempts = new Map<number, number>();
  let watcher: FSWatcher | null = null;
  let poller: NodeJS.Timeout | null = null;
  let closed = false;

  function end(t: Tracked, rec: EndRecord): void {
    if (t.ended || closed) return;
    t.ended = true;
    if (jobs.get(t.jobId) === t) jobs.delete(t.jobId);
    byKey.delete(t.key);
    unwatch(t);
    reported.add(t.jobId);
    const e: JobEnded = { jobId: t.jobId, outcome: rec.outcome };
    if (rec.error !== undefined) e.error = rec.error;
    for (const l of listeners) l(e);
  }

  /** Check a job's run file; with `liveness`, also decide a dead wrapper's fate. */
  function check(t: Tracked, liveness: boolean): void {
    if (t.ended) return;
    const status = readEnd(runDir, t.key);
    if (status) {
      end(t, status);
      return;
    }
    if (!liveness) return;
    if (!t.proc) {
      // Launched in this life: identifiable once claimed (until its exec, the process's argv is the batch shell's).
      const claim = readRunFile(runDir, t.key);
      if (claim?.kind !== 'pid') return;
      t.proc = identify(claim.pid, runDir, t.key);
      if (t.proc) return;
    } else if (isAlive(t.proc)) return;
    end(t, readEnd(runDir, t.key) ?? silentEnd(t.signalSent));
  }

  /** Poll every tracked job now and then, adopted ones at once, launched ones once they are a few seconds old. */
  function poll(): void {
    const now = performance.now();
    for (const t of [...jobs.values()]) if (t.launchedAt === 0 || now - t.launchedAt > launchedPollAfterMs) check(t, true);
    if (jobs.size === 0 && poller) {
      clearInterval(poller);
      poller = null;
    }
  }

  function startPolling(): void {
    if (poller) return;
    poller = setInterval(poll, pollMs);
    poller.unref();
  }

  function watchAdopted(t: Tracked): void {
    adopted.set(t.key, t);
    startPolling();
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
  }

  function unwatch(t: Tracked): void {
    if (!adopted.delete(t.key) || adopted.size > 0) return;
    watcher?.close();
    watcher = null;
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
      const t: Tracked = { jobId, key, pid: knownPid ?? 0, proc, launchedAt: 0, ended: false, signalSent: null };
      jobs.set(jobId, t);
      byKey.set(key, t);
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
    // A job run again (retry, rerun) never reuses a run key in one executor life, even after its files
    // were forgotten: a late notice of an earlier run then cannot be taken for this one.
    const attempt = Math.max(lastAttempt(runDir, spec.jobId) + 1, (usedAttempts.get(spec.jobId) ?? -1) + 1);
    usedAttempts.set(spec.jobId, attempt);
    const key = attemptKey(spec.jobId, attempt);
    const args = wrapperArgs({
      runDir,
      key,
      jobId: spec.jobId,
      cwd: spec.cwd,
      command: spec.command,
      env: { QPY_NODE: nodeName, ...spec.env },
    });
    const t: Tracked = { jobId: spec.jobId, key, pid: 0, proc: null, launchedAt: performance.now(), ended: false, signalSent: null };
    jobs.set(spec.jobId, t);
    byKey.set(key, t);
    startPolling();
    try {
      t.pid = await launcher.launch(key, args);
    } catch (err) {
      // The batch shell died without reporting this start: did the wrapper claim anyway? Else block it for good.
      for (;;) {
        const claim = readRunFile(runDir, key);
        if (claim?.kind === 'pid') {
          t.pid = claim.pid;
          if (!t.ended) check(t, true);
          return { pid: claim.pid };
        }
        if (claim || createExclusive(runPath(runDir, key), 'none\n')) break;
      }
      if (jobs.get(spec.jobId) === t) jobs.delete(spec.jobId);
      byKey.delete(key);
      throw new Error(`cannot start job ${spec.jobId}: ${(err as Error).message}`);
    }
    return { pid: t.pid };
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
    await killGroup(
      {
        signal: (sig) => signalGroup(pid, `SIG${sig}`),
        gone: () => !groupAlive(pid),
        // Through `setsid`, a just-started job is reported a moment before its group exists.
        mayAppear: () => t !== undefined && !t.ended && pidExists(pid),
        sent(sig) {
          if (!t) return;
          t.signalSent = sig;
          if (sig === 'KILL') setTimeout(() => check(t, true), 50).unref();
        },
        repeatTerm: () => !readEnd(runDir, attemptKey(jobId, lastAttempt(runDir, jobId))),
      },
      graceMs,
    );
  }

  /** A given-up job's group: TERM, KILL after the grace, then true once no member is left alive. */
  async function killLeftover(_jobId: number, pid: number, graceMs: number): Promise<boolean> {
    if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`invalid process group id ${pid}`);
    await killGroup(
      { signal: (sig) => signalGroup(pid, `SIG${sig}`), gone: () => !groupAlive(pid), mayAppear: () => false, sent: () => undefined },
      graceMs,
    );
    for (let waited = 0; waited < 2000; waited += 20) {
      if (!groupAlive(pid)) return true;
      await delay(20);
    }
    return false;
  }

  return {
    launch,
    adopt,
    kill,
    killLeftover,
    pidOf,
    readOutput: (_jobId, path, offset, max) => Promise.resolve(readLocalRange(path, offset, max)),
    onEnded(listener) {
      listeners.push(listener);
    },
    abandon(jobId) {
      const t = jobs.get(jobId);
      if (!t) return;
      t.ended = true;
      jobs.delete(jobId);
      byKey.delete(t.key);
      unwatch(t);
    },
    forget(jobId) {
      if (jobs.has(jobId)) return; // still running: its files are needed
      reported.delete(jobId);
      removeRunFiles(runDir, jobId);
    },
    async close() {
      closed = true;
      await launcher.close();
      jobs.clear();
      byKey.clear();
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
