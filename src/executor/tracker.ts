/**
 * The run tracker: the one Executor behind every node, local or SSH. It
 * keeps the records of the jobs it watches and talks to the node only through
 * its agent (agent-link.ts), so the transports differ only in how the agent's
 * streams are obtained and how output files are read (local.ts, ssh.ts).
 *
 * End detection: the live agent tells each end of a job it started on its
 * stdout (`E key status`, from the agent that waited for it or from the
 * job's wrapper): one stream per node, no polling. Jobs adopted from an
 * earlier master life, jobs whose agent died, jobs this life KILLed, and
 * jobs launched more than `launchedPollAfterMs` ago (a wrapper SIGKILLed
 * behind the master's back cannot notify) are checked every `pollMs`, all in
 * one request: the job's liveness, then its run file. A job gone without a
 * status line ended with its wait status where the agent knows it, else by
 * the signal this life sent it, else `lost`.
 */
import type { AdoptResult, Executor, JobEnded, LaunchSpec } from './executor.js';
import { wrapperArgs, type EndNotice } from './wrapper.js';
import { attemptKey, endOf, type EndRecord } from './run-files.js';
import { killGroup, LOST, notifiedEnd, type KillSignal } from './group-kill.js';
import { agentCommand, launchCommand } from './agent-script.js';
import { createAgentLink, type AgentTransport } from './agent-link.js';
import { block, groupOf, inspect as inspectOn, inspectSettled, killLeftover } from './agent-queries.js';
import { batched, lastClaim, runsOf, settled, type Ask } from './agent-queries.js';

export interface TrackerOptions {
  /** The node's name in qpy (QPY_NODE, messages). */
  nodeName: string;
  /** Absolute run directory on the node (created by the agent). */
  runDir: string;
  transport: AgentTransport;
  /** How often watched jobs are checked (ms). */
  pollMs?: number;
  /** How long `adopt` waits for a half-written claim to be completed (ms). */
  claimWaitMs?: number;
  /** A job whose end the live agent will tell is checked too once this old (ms). */
  launchedPollAfterMs?: number;
  /** Told when the link is lost or an attempt to open it fails (with the reason), and when it is back (null). */
  onLink?: (problem: string | null) => void;
}

interface Tracked {
  jobId: number;
  key: string;
  /** The job's pid (its wrapper's, under sh), which is also its process group (0 while unknown). */
  pid: number;
  /** Its end will be told by the live agent; false once adopted, KILLed, or once its agent died. */
  notified: boolean;
  /** performance.now() at launch (0 if adopted). */
  launchedAt: number;
  ended: boolean;
  /** When a check first found the job gone with nothing recorded (performance.now()). */
  silentSince?: number;
  /** The last signal this life sent to the job's group: what a job that died without a status line died of. */
  signalSent: KillSignal | null;
}

/** The attempt number of a run key: `12` → 0, `12.a3` → 3. */
const attemptOf = (key: string): number => Number(/\.a(\d+)$/.exec(key)?.[1] ?? 0);

export function createTracker(opts: TrackerOptions): Executor {
  const { nodeName, pollMs = 1000, claimWaitMs = 2000, launchedPollAfterMs = 5000 } = opts;
  if (!opts.runDir.startsWith('/')) throw new Error(`run directory must be absolute: ${opts.runDir}`);
  const listeners: ((e: JobEnded) => void)[] = [];
  const jobs = new Map<number, Tracked>();
  const byKey = new Map<string, Tracked>();
  /** E lines that beat their S line (kept only while launches are in flight). */
  const early = new Map<string, EndNotice>();
  let launching = 0;
  const reported = new Set<number>();
  /** The last run-key attempt used per job in this life (a job run again never reuses a key). */
  const usedAttempts = new Map<number, number>();
  let poller: NodeJS.Timeout | null = null;
  let closed = false;

  const link = createAgentLink({
    node: nodeName,
    runDir: opts.runDir,
    transport: opts.transport,
    onEnded: onNotified,
    onLost() {
      // Ends of running jobs can no longer be told: check them from now on.
      for (const t of jobs.values()) t.notified = false;
      if (jobs.size > 0) startPolling();
    },
    ...(opts.onLink ? { onLink: opts.onLink } : {}),
  });
  const ask: Ask = async (build) => (await link.session()).request(build);
  /** Jobs forgotten, whose run files are removed in batches. */
  const forgotten = batched(ask, agentCommand.remove);
  const inspect = (ts: readonly { key: string; pid: number }[]) => inspectOn(ask, ts);

  function track(t: Tracked): Tracked {
    jobs.set(t.jobId, t);
    byKey.set(t.key, t);
    return t;
  }

  function untrack(t: Tracked): void {
    if (jobs.get(t.jobId) === t) jobs.delete(t.jobId);
    byKey.delete(t.key);
  }

  /** Report a job's end (`later`: once the caller has returned, as for an adoption that found it over). */
  function end(t: Tracked, rec: EndRecord, later = false): void {
    if (t.ended || closed) return;
    t.ended = true;
    untrack(t);
    reported.add(t.jobId);
    const e: JobEnded = { jobId: t.jobId, outcome: rec.outcome };
    if (rec.error !== undefined) e.error = rec.error;
    if (rec.limit !== undefined) e.limit = rec.limit;
    if (rec.usage !== undefined) e.usage = rec.usage;
    const tell = () => {
      if (!closed) for (const l of listeners) l(e);
    };
    if (later) setImmediate(tell);
    else tell();
  }

  function onNotified(notice: EndNotice): void {
    const { key, status, limit, usage } = notice;
    const t = byKey.get(key);
    if (!t) {
      if (launching > 0 && !early.has(key)) early.set(key, notice);
      return;
    }
    if (t.ended) return;
    // A told 126 may carry a reason (`error cwd-missing`…) in the run file: read it too.
    if (status === 126) return void check([t]).catch(() => end(t, notifiedEnd(status)));
    end(t, { ...notifiedEnd(status), ...(limit ? { limit } : {}), ...(usage ? { usage } : {}) });
  }

  /** Check `ts` and end those that ended (status recorded, or gone without one). */
  async function check(ts: Tracked[]): Promise<void> {
    const found = await inspect(ts);
    for (const t of ts) {
      const c = found.get(t.key);
      const rec = c && !t.ended ? settled(t, c, performance.now()) : null;
      if (rec) end(t, rec);
    }
  }

  async function poll(): Promise<void> {
    const now = performance.now();
    const watched = [...jobs.values()].filter((t) => !t.ended && (!t.notified || now - t.launchedAt > launchedPollAfterMs));
    if (watched.length > 0) await check(watched);
  }

  function startPolling(): void {
    if (poller || closed) return;
    let busy = false;
    poller = setInterval(() => {
      if (busy) return;
      if (jobs.size === 0) {
        clearInterval(poller!);
        poller = null;
        return;
      }
      busy = true;
      poll()
        .catch(() => undefined) // unreachable: the next round tries again
        .finally(() => (busy = false));
    }, pollMs);
    poller.unref();
  }

  async function launch(spec: LaunchSpec): Promise<{ pid: number }> {
    if (closed) throw new Error('executor is closed');
    if (jobs.has(spec.jobId)) throw new Error(`job ${spec.jobId} is already running`);
    forgotten.before(spec.jobId);
    reported.delete(spec.jobId);
    const args = wrapperArgs({
      runDir: opts.runDir,
      key: '0',
      jobId: spec.jobId,
      cwd: spec.cwd,
      command: spec.command,
      out: spec.out,
      err: spec.err,
      env: { QPY_NODE: nodeName, ...spec.env },
    });
    launching++;
    try {
      const a = await link.session();
      const lines = await a.request((tag) => launchCommand(tag, args, (usedAttempts.get(spec.jobId) ?? -1) + 1, spec));
      const s = lines.find((l) => l.type === 'started');
      if (s?.type !== 'started') throw new Error(`node ${nodeName}: the agent did not start job ${spec.jobId}`);
      usedAttempts.set(spec.jobId, attemptOf(s.key));
      const t = track({
        jobId: spec.jobId,
        key: s.key,
        pid: s.pid,
        notified: link.current() === a,
        launchedAt: performance.now(),
        ended: false,
        signalSent: null,
      });
      const notice = early.get(t.key);
      if (notice !== undefined) onNotified(notice);
      startPolling();
      return { pid: s.pid };
    } finally {
      if (--launching === 0) early.clear();
    }
  }

  async function adopt(jobId: number, pid: number | null): Promise<AdoptResult> {
    if (closed) throw new Error('executor is closed');
    if (jobs.has(jobId)) return 'running';
    if (reported.has(jobId)) return 'ended';
    forgotten.before(jobId);
    for (;;) {
      const { last, claim } = await lastClaim(ask, jobId, claimWaitMs);
      const key = attemptKey(jobId, last);
      // No claim, a blocked attempt, or a claim by another process than the one the
      // master knows: the launch in question (attempt last+1) has not claimed yet. Block it.
      if (claim?.kind !== 'pid' || (pid !== null && claim.pid !== pid)) {
        if (await block(ask, attemptKey(jobId, last + 1))) return 'never_started';
        continue; // a wrapper claimed it just now: look again
      }
      const t = track({ jobId, key, pid: claim.pid, notified: false, launchedAt: 0, ended: false, signalSent: null });
      const now = claim.end ? null : await inspectSettled(ask, t);
      // Alive, and no status yet: running. Otherwise its status, or lost if it vanished without one.
      if (now?.state === 'alive' && !endOf(now.file)) {
        startPolling();
        return 'running';
      }
      end(t, claim.end ?? endOf(now?.file) ?? LOST, true);
      return 'ended';
    }
  }

  async function kill(jobId: number, pid: number, graceMs: number): Promise<void> {
    const group = groupOf(ask, pid);
    const t = jobs.get(jobId);
    // Unknown in this life: if its last run recorded its end, its group id may have been reused: leave it.
    if (!t && (reported.has(jobId) || endOf((await runsOf(ask, jobId)).at(-1)))) return;
    await killGroup(
      {
        ...group,
        // Through setsid, a just-started job is reported a moment before its group exists.
        mayAppear: () => t !== undefined && !t.ended,
        sent(sig) {
          if (!t) return;
          t.signalSent = sig;
          if (sig !== 'KILL') return;
          // A KILLed wrapper cannot notify: watch it by polling.
          t.notified = false;
          startPolling();
          setTimeout(() => void check([t]).catch(() => undefined), 50).unref();
        },
        repeatTerm: () => !t?.ended,
      },
      graceMs,
    );
  }

  return {
    launch,
    adopt,
    kill,
    killLeftover: (_jobId, pid, graceMs) => killLeftover(ask, pid, graceMs),
    async readOutput(_jobId, path, offset, max) {
      await link.session();
      return opts.transport.readRange(path, offset, max);
    },
    limitsOn: () => link.current()?.limits ?? null,
    pidOf(jobId) {
      const t = jobs.get(jobId);
      return t && t.pid > 1 ? t.pid : null;
    },
    onEnded(listener) {
      listeners.push(listener);
    },
    abandon(jobId) {
      const t = jobs.get(jobId);
      if (!t) return;
      t.ended = true;
      untrack(t);
    },
    forget(jobId) {
      if (jobs.has(jobId) || closed) return; // still running: its files are needed
      reported.delete(jobId);
      forgotten.add(jobId);
    },
    async close() {
      if (poller) clearInterval(poller);
      poller = null;
      // A last removal goes out before the agent's stdin closes.
      if (forgotten.pending() && link.current()) await forgotten.flush();
      forgotten.stop();
      closed = true;
      link.close();
      jobs.clear();
      byKey.clear();
    },
  };
}
