/**
 * The link from one executor to its node's agent, whatever the transport:
 * one live agent session, started on first use, and started again when it
 * dies (at once) or when starting it failed (retried in the background with
 * backoff, 1 s doubling to 15 s, until it succeeds, whatever the failure; a
 * transport may watch for the node's return more cheaply, as SSH does with a
 * TCP knock every second while the port does not answer). `onLink` reports
 * every loss or failed attempt, and recovery.
 */
import { QpyError } from '../errors.js';
import type { AgentChannel, AgentSession } from './agent-session.js';
import { startAgent } from './agent-session.js';
import { nextRetryMs } from './retry.js';
import type { EndNotice } from './wrapper.js';

/** How an executor reaches its node: the agent's streams, and the node's files. */
export interface AgentTransport {
  /** Start a new agent and give its streams; when this rejects, nothing was started on the node. */
  open(): Promise<AgentChannel>;
  /** Up to `max` bytes of the file at `path` from `offset` on, read on the node (empty if none). */
  readRange(path: string, offset: number, max: number): Promise<Buffer>;
  /** After a failed `open`: a watch that resolves when the node seems back before the backoff ends, or null. */
  watchReturn?(failure: Error): { returned: Promise<void>; cancel(): void } | null;
  /** Drop whatever the transport keeps open (not the jobs). */
  close(): void;
}

export interface AgentLinkOptions {
  node: string;
  runDir: string;
  transport: AgentTransport;
  /** An `E` line: a job's end, told by its agent or its wrapper. */
  onEnded(notice: EndNotice): void;
  /** A session died: ends it would have been told of must now be polled. */
  onLost(): void;
  /** Told when the link is lost or an attempt to open it fails (with the reason), and when it is back (null). */
  onLink?: (problem: string | null) => void;
}

export interface AgentLink {
  /** The live session, started if needed. Rejects (nodeNotReached) while the node cannot be reached. */
  session(): Promise<AgentSession>;
  /** The live session, if there is one now. */
  current(): AgentSession | null;
  close(): void;
}

export function createAgentLink(opts: AgentLinkOptions): AgentLink {
  const { node, transport } = opts;
  let agent: AgentSession | null = null;
  let opening: Promise<AgentSession> | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let watch: { cancel(): void } | null = null;
  let closed = false;
  /** The last failed attempt: later calls fail fast until `retryAt` (backoff 1 s → 15 s). */
  let failure: { error: Error; retryAt: number; backoffMs: number } | null = null;

  function session(): Promise<AgentSession> {
    if (closed) return Promise.reject(new Error('executor is closed'));
    if (agent) return Promise.resolve(agent);
    if (failure && performance.now() < failure.retryAt) {
      reconnectLater(); // the next attempt stays scheduled, whoever asked
      return Promise.reject(failure.error);
    }
    opening ??= (async () => {
      try {
        const ch = await transport.open();
        const a = await startAgent(node, ch, opts.runDir, opts.onEnded).catch((err: unknown) => {
          ch.end();
          throw err;
        });
        if (closed) {
          a.close();
          throw new Error('executor is closed');
        }
        agent = a;
        failure = null;
        opts.onLink?.(null);
        void a.closed.then((why) => {
          if (agent !== a) return;
          agent = null;
          opts.onLost();
          if (closed) return;
          opts.onLink?.(why);
          reconnectLater();
        });
        return a;
      } catch (err) {
        const backoffMs = nextRetryMs(failure?.backoffMs ?? null);
        // Nothing was sent to the node: callers may count on that (see nodeNotReached).
        const error = err instanceof QpyError ? err : new QpyError('NODE_UNREACHABLE', `node ${node}: ${(err as Error).message}`);
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

  /** Try again once the backoff allows, until the agent runs (a node that comes back is used again). */
  function reconnectLater(): void {
    if (closed || reconnectTimer) return;
    const wait = failure ? Math.max(0, failure.retryAt - performance.now()) : 0;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      watch?.cancel();
      watch = null;
      // Its time has come: a timer may fire a little before performance.now() reaches retryAt, and
      // session() would then fail fast without trying, leaving no attempt scheduled (a master with
      // no job on a node that went down never came back to it).
      if (failure) failure.retryAt = 0;
      session().catch(() => undefined); // a failure schedules the next attempt
    }, wait);
    reconnectTimer.unref();
    if (failure && !watch) {
      const w = transport.watchReturn?.(failure.error) ?? null;
      if (!w) return;
      watch = w;
      void w.returned.then(() => {
        if (watch !== w || closed || agent || !failure) return;
        watch = null;
        // The node answers again: the next attempt is now, not at the end of the backoff.
        failure.retryAt = performance.now();
        if (reconnectTimer) clearTimeout(reconnectTimer);
        reconnectTimer = null;
        reconnectLater();
      });
    }
  }

  return {
    session,
    current: () => agent,
    close() {
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      reconnectTimer = null;
      watch?.cancel();
      watch = null;
      agent?.close();
      agent = null;
      transport.close();
    },
  };
}
