/**
 * The SSH executor: runs jobs on one remote node through its agent
 * (agent-session.ts, remote-agent.ts) on ONE long-lived SSH connection,
 * opened on first use. Same wrapper, run files and rules as the local
 * executor; only where they live differs (the run directory is read and
 * written through the agent, so the node's file system need not be shared).
 *
 * End detection: a wrapper started by the current agent notifies its end on
 * the agent's channel (`E key status`): one stream per node, no channel per
 * job, no polling. Jobs adopted from an earlier master life, and jobs whose
 * agent was lost with its connection, are polled every `pollMs` with one
 * request for all of them. A lost connection, or a failed attempt to open
 * one, is retried in the background with backoff (1 s doubling to 15 s) until
 * it succeeds, whatever the failure; while the node's port does not even
 * answer (refused, timed out), a TCP knock every second notices its return,
 * so a node whose sshd comes back is used again within about a second.
 * `onLink` reports every loss or failed attempt, and recovery.
 */
import type { Client } from 'ssh2';
import { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { AdoptResult, Executor, JobEnded, LaunchSpec } from './executor.js';
import { wrapperArgs } from './wrapper.js';
import { nextRetryMs } from './retry.js';
import { readRemoteRange } from './read-output.js';
import { attemptKey, parseRunFile, type EndRecord, type RunFile } from './run-files.js';
import { killGroup, LOST, notifiedEnd, silentEnd, type KillSignal } from './group-kill.js';
import { agentCommand, launchCommand, type AgentLine, type AgentShell } from './remote-agent.js';
import { startAgent, type AgentSession } from './agent-session.js';
import { connectSsh } from '../ssh/connection.js';
import { QpyError } from '../errors.js';
import { resolveSsh, type SshSettings } from '../ssh/ssh-config.js';
import { portUnanswered } from '../ssh/plain-words.js';

export interface SshExecutorOptions {
  /** The node's name in qpy (QPY_NODE, messages). */
  nodeName: string;
  /** What to give `ssh -G`: an address or an ssh_config alias. */
  address: string;
  /** Absolute run directory on the node (created by the agent). */
  runDir: string;
  pollMs?: number;
  keepaliveMs?: number;
  /** The agent's shell: bash when the node has it (`auto`, the default), or always sh (tests). */
  agentShell?: AgentShell;
  /** Told when the link is lost or an attempt to open it fails (with the reason), and when it is back (null). */
  onLink?: (problem: string | null) => void;
}

interface Tracked {
  jobId: number;
  key: string;
  pid: number;
  /** Notified by the live agent; false once adopted, KILLed, or once its agent died. */
  notified: boolean;
  /** performance.now() at launch (0 if adopted): notified jobs are polled too once a few seconds old. */
  launchedAt: number;
  ended: boolean;
  signalSent: KillSignal | null;
}

/** The attempt number of a run key: `12` → 0, `12.a3` → 3. */
const attemptOf = (key: string): number => Number(/\.a(\d+)$/.exec(key)?.[1] ?? 0);

/** A wrapper SIGKILLed behind the master's back cannot notify: notified jobs are polled once this old. */
const NOTIFIED_POLL_AFTER_MS = 5000;
/** While the node's port does not answer, it is knocked at this often (a TCP connect, closed at once). */
const KNOCK_MS = 1000;

/** Does a TCP connection to host:port open within `timeoutMs`? */
function knock(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.connect(port, host);
  });
}

const files = (lines: AgentLine[]): Map<string, RunFile> =>
  new Map(lines.flatMap((l) => (l.type === 'file' ? [[l.key, parseRunFile(l.content)] as [string, RunFile]] : [])));
const yes = (lines: AgentLine[]): boolean => lines.some((l) => l.type === 'answer' && l.yes);

export function createSshExecutor(opts: SshExecutorOptions): Executor {
  const { nodeName, pollMs = 1000 } = opts;
  if (!opts.runDir.startsWith('/')) throw new Error(`run directory must be absolute: ${opts.runDir}`);
  const listeners: ((e: JobEnded) => void)[] = [];
  const jobs = new Map<number, Tracked>();
  const byKey = new Map<string, Tracked>();
  const early = new Map<string, number>(); // E lines that beat their S line
  const reported = new Set<number>();
  /** The last run-key attempt used per job in this life (a job run again never reuses a key). */
  const usedAttempts = new Map<number, number>();
  let client: Client | null = null;
  let agent: AgentSession | null = null;
  let opening: Promise<AgentSession> | null = null;
  let poller: NodeJS.Timeout | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let knocker: NodeJS.Timeout | null = null;
  let closed = false;
  /** The last failed connection attempt: later calls fail fast until `retryAt` (backoff 1 s → 15 s). */
  let failure: { error: Error; retryAt: number; backoffMs: number } | null = null;
  /** The node's SSH settings as last resolved (where to knock). */
  let settings: SshSettings | null = null;

  function end(t: Tracked, rec: EndRecord): void {
    if (t.ended || closed) return;
    t.ended = true;
    if (jobs.get(t.jobId) === t) jobs.delete(t.jobId);
    byKey.delete(t.key);
    reported.add(t.jobId);
    const e: JobEnded = { jobId: t.jobId, outcome: rec.outcome };
    if (rec.error !== undefined) e.error = rec.error;
    for (const l of listeners) l(e);
  }

  function onNotified(key: string, status: number): void {
    const t = byKey.get(key);
    if (!t) return void early.set(key, status);
    // 126 may carry a reason (`error cwd-missing`…) in the run file: read it.
    if (status === 126) return void readEnds([t]);
    end(t, notifiedEnd(status));
  }

  async function session(): Promise<AgentSession> {
    if (closed) throw new Error('executor is closed');
    if (agent) return agent;
    if (failure && performance.now() < failure.retryAt) throw failure.error;
    opening ??= (async () => {
      try {
        settings = await resolveSsh(opts.address);
        const c = await connectSsh(nodeName, settings, { keepaliveMs: opts.keepaliveMs ?? 2000 });
        const a = await startAgent(nodeName, c, opts.runDir, opts.agentShell ?? 'auto', onNotified).catch((err: unknown) => {
          c.end();
          throw err;
        });
        client = c;
        agent = a;
        failure = null;
        opts.onLink?.(null);
        void a.closed.then((why) => {
          if (agent !== a) return;
          agent = null;
          client?.end();
          client = null;
          // Ends of running jobs can no longer be notified: poll them from now on.
          for (const t of jobs.values()) t.notified = false;
          if (closed) return;
          opts.onLink?.(why);
          if (jobs.size > 0) startPolling();
          reconnectLater();
        });
        return a;
      } catch (err) {
        const backoffMs = nextRetryMs(failure?.backoffMs ?? null);
        // Nothing was sent to the node: callers may count on that (see nodeNotReached).
        const error = err instanceof QpyError ? err : new QpyError('NODE_UNREACHABLE', `node ${nodeName}: ${(err as Error).message}`);
        failure = { error, retryAt: performance.now() + backoffMs, backoffMs };
        if (!closed) {
          opts.onLink?.(error.message);
          reconnectLater();
        }
        throw error;
      } finally {
        opening = null;
      }
    })();
    return opening;
  }

  /** Try the link again once the backoff allows, until it is open (a node that comes back is used again). */
  function reconnectLater(): void {
    if (closed || reconnectTimer) return;
    const wait = failure ? Math.max(0, failure.retryAt - performance.now()) : 0;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      session().catch(() => undefined); // a failure schedules the next attempt
    }, wait);
    reconnectTimer.unref();
    if (failure && portUnanswered(failure.error.message) && wait > KNOCK_MS) knockLater();
  }

  /** While the port does not answer: knock every KNOCK_MS, and try at once when it answers again. */
  function knockLater(): void {
    if (closed || knocker || settings === null) return;
    const { host, port } = settings;
    knocker = setTimeout(() => {
      void knock(host, port, KNOCK_MS).then((open) => {
        knocker = null;
        if (closed || agent || !failure || !portUnanswered(failure.error.message)) return;
        if (!open) return knockLater();
        // The port answers again: the next attempt is now, not at the end of the backoff.
        failure.retryAt = performance.now();
        if (reconnectTimer) clearTimeout(reconnectTimer);
        reconnectTimer = null;
        reconnectLater();
      });
    }, KNOCK_MS);
    knocker.unref();
  }

  async function ask(build: (tag: number) => string): Promise<AgentLine[]> {
    return (await session()).request(build);
  }

  /** Read the run files of `ts` and end those that recorded their end. */
  async function readEnds(ts: Tracked[]): Promise<Map<string, RunFile>> {
    const found = files(
      await ask((tag) =>
        agentCommand.poll(
          tag,
          ts.map((t) => t.key),
        ),
      ),
    );
    for (const t of ts) {
      const f = found.get(t.key);
      if (f?.kind === 'pid' && f.end) end(t, f.end);
    }
    return found;
  }

  async function poll(): Promise<void> {
    const now = performance.now();
    const watched = [...jobs.values()].filter((t) => !t.ended && (!t.notified || now - t.launchedAt > NOTIFIED_POLL_AFTER_MS));
    if (watched.length === 0) return;
    const found = await readEnds(watched);
    for (const t of watched) {
      if (t.ended) continue;
      const f = found.get(t.key);
      const pid = f?.kind === 'pid' ? f.pid : t.pid;
      if (pid > 0 && yes(await ask((tag) => agentCommand.alive(tag, pid, t.key)))) continue;
      if (f?.kind !== 'pid' && t.pid === 0) continue; // not claimed yet
      const again = files(await ask((tag) => agentCommand.poll(tag, [t.key]))).get(t.key);
      end(t, again?.kind === 'pid' && again.end ? again.end : silentEnd(t.signalSent));
    }
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
    if (jobs.has(spec.jobId)) throw new Error(`job ${spec.jobId} is already running`);
    reported.delete(spec.jobId);
    const args = wrapperArgs({
      runDir: opts.runDir,
      key: '0',
      jobId: spec.jobId,
      cwd: spec.cwd,
      command: spec.command,
      env: { QPY_NODE: nodeName, ...spec.env },
    });
    const a = await session();
    const lines = await a.request((tag) => launchCommand(tag, args, (usedAttempts.get(spec.jobId) ?? -1) + 1));
    const s = lines.find((l) => l.type === 'started');
    if (s?.type !== 'started') throw new Error(`node ${nodeName}: the agent did not start job ${spec.jobId}`);
    usedAttempts.set(spec.jobId, attemptOf(s.key));
    const t: Tracked = {
      jobId: spec.jobId,
      key: s.key,
      pid: s.pid,
      notified: agent === a,
      launchedAt: performance.now(),
      ended: false,
      signalSent: null,
    };
    jobs.set(spec.jobId, t);
    byKey.set(t.key, t);
    const status = early.get(t.key);
    if (status !== undefined) {
      early.delete(t.key);
      onNotified(t.key, status);
    }
    startPolling();
    return { pid: s.pid };
  }

  async function adopt(jobId: number, pid: number | null): Promise<AdoptResult> {
    if (jobs.has(jobId)) return 'running';
    if (reported.has(jobId)) return 'ended';
    for (;;) {
      const lines = await ask((tag) => agentCommand.runs(tag, jobId));
      const all = lines.flatMap((l) => (l.type === 'file' ? [l] : []));
      const last = all.length - 1;
      let claim = last < 0 ? null : parseRunFile(all[last]!.content);
      for (let waited = 0; claim?.kind === 'incomplete' && waited < 2000; waited += 20) {
        await delay(20);
        claim = files(await ask((tag) => agentCommand.poll(tag, [attemptKey(jobId, last)]))).get(attemptKey(jobId, last)) ?? null;
      }
      if (!claim || claim.kind === 'none' || claim.kind === 'incomplete' || (pid !== null && claim.pid !== pid)) {
        if (yes(await ask((tag) => agentCommand.block(tag, attemptKey(jobId, last + 1))))) return 'never_started';
        continue;
      }
      const key = attemptKey(jobId, last);
      const t: Tracked = { jobId, key, pid: claim.pid, notified: false, launchedAt: 0, ended: false, signalSent: null };
      jobs.set(jobId, t);
      byKey.set(key, t);
      if (claim.end) {
        const rec = claim.end;
        setImmediate(() => end(t, rec));
        return 'ended';
      }
      if (yes(await ask((tag) => agentCommand.alive(tag, claim.pid, key)))) {
        startPolling();
        return 'running';
      }
      const again = files(await ask((tag) => agentCommand.poll(tag, [key]))).get(key);
      const rec = again?.kind === 'pid' && again.end ? again.end : LOST;
      setImmediate(() => end(t, rec));
      return 'ended';
    }
  }

  async function kill(jobId: number, pid: number, graceMs: number): Promise<void> {
    if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`invalid process group id ${pid}`);
    const t = jobs.get(jobId);
    if (!t && reported.has(jobId)) return;
    await killGroup(
      {
        signal: async (sig) => yes(await ask((tag) => agentCommand.kill(tag, sig, pid))),
        // The group, not the wrapper: a wrapper that ended may leave children in its group (ones that ignore TERM).
        gone: async () => !yes(await ask((tag) => agentCommand.group(tag, pid))),
        // Through setsid, a just-started job is reported a moment before its group exists.
        mayAppear: () => t !== undefined && !t.ended,
        sent(sig) {
          if (!t) return;
          t.signalSent = sig;
          if (sig !== 'KILL') return;
          // A KILLed wrapper cannot notify: watch it by polling.
          t.notified = false;
          startPolling();
          setTimeout(() => void poll().catch(() => undefined), 50).unref();
        },
      },
      graceMs,
    );
  }

  /** A given-up job's group: TERM, KILL after the grace, then true once no member is left alive. */
  async function killLeftover(_jobId: number, pid: number, graceMs: number): Promise<boolean> {
    if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`invalid process group id ${pid}`);
    const signal = async (sig: string) => yes(await ask((tag) => agentCommand.kill(tag, sig, pid)));
    const alive = async () => yes(await ask((tag) => agentCommand.group(tag, pid)));
    await killGroup({ signal, gone: async () => !(await alive()), mayAppear: () => false, sent: () => undefined }, graceMs);
    for (let waited = 0; waited < 2000; waited += 50) {
      if (!(await alive())) return true;
      await delay(50); // a KILLed process leaves the table a moment later
    }
    return false;
  }

  return {
    launch,
    adopt,
    kill,
    killLeftover,
    async readOutput(_jobId, path, offset, max) {
      await session();
      if (client === null) throw new QpyError('NODE_UNREACHABLE', `node ${nodeName} is not connected`);
      return readRemoteRange(client, path, offset, max);
    },
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
      jobs.delete(jobId);
      byKey.delete(t.key);
    },
    forget(jobId) {
      if (jobs.has(jobId)) return;
      reported.delete(jobId);
      if (agent) void agent.request((tag) => agentCommand.remove(tag, jobId)).catch(() => undefined);
    },
    async close() {
      closed = true;
      if (poller) clearInterval(poller);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (knocker) clearTimeout(knocker);
      poller = null;
      agent?.close();
      client?.end();
      agent = null;
      client = null;
      jobs.clear();
      byKey.clear();
    },
  };
}
