/**
 * The master's link to the shared qpy-multiuser daemon, behind the same
 * AllocatorLink as the embedded allocator. One authenticated WebSocket, kept
 * open; when it drops (or the daemon is not running) it is retried every
 * 100 ms doubling to 1 s, so queued jobs start within a second of the
 * daemon's return. Every (re)connection first registers the master's running
 * jobs, which makes the daemon's books for this user exact again (releases
 * missed while it was away included), and replays which nodes this master
 * cannot reach.
 *
 * While the daemon is away: running jobs go on; a request for a slot is
 * answered ALLOCATOR_UNREACHABLE (the job waits); a release is dropped (the
 * next registration settles it); a submission is accepted unchecked.
 */
import { QpyError } from '../errors.js';
import { allocatorToMasterSchema, type AllocatorFrame, type AllocatorToMaster, type MasterToAllocator, type Slot } from '../protocol/master-allocator.js';
import { connect, type Connection } from '../transport/client.js';
import { wsSocket } from '../transport/ws-socket.js';
import type { AllocatorLink, AllocatorRequest } from './allocator-link.js';
import type { Log } from './log.js';

export interface MultiuserLinkOptions {
  url: string;
  key: Buffer;
  user: string;
  log: Log;
  /** What to register with: the running jobs' slots and the queue size, now. */
  registration(): { running: Slot[]; queueSize: number };
  /** After each successful registration, and whenever the daemon says room may have freed up: start a dispatch pass. */
  onRegistered(): void;
  /** Each granted node's address (the master keeps them to reach the node again after a restart). */
  onAddress(node: string, address: string): void;
}

export interface MultiuserLink extends AllocatorLink {
  /** Resolves after the first registration attempt (successful or not). */
  readonly firstAttempt: Promise<void>;
  close(): void;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1000;

export function multiuserLink(opts: MultiuserLinkOptions): MultiuserLink {
  let conn: Connection<MasterToAllocator, AllocatorFrame> | null = null;
  let closed = false;
  let retryMs = RETRY_MIN_MS;
  let timer: NodeJS.Timeout | null = null;
  let downSince: number | null = null;
  let lastProblem = '';
  const reachability = new Map<string, boolean>();
  let markFirst!: () => void;
  const firstAttempt = new Promise<void>((r) => (markFirst = r));

  const unreachable = (id: number): AllocatorToMaster =>
    new QpyError('ALLOCATOR_UNREACHABLE', 'qpy-multiuser is not reachable', 'queued jobs wait; running jobs go on').toReply(id);

  function down(problem: string): void {
    if (downSince === null) {
      downSince = Date.now();
      opts.log(`qpy-multiuser unreachable (${problem}): queued jobs wait, running jobs go on; retrying`);
    } else if (problem !== lastProblem) opts.log(`qpy-multiuser still unreachable: ${problem}`);
    lastProblem = problem;
  }

  async function attempt(): Promise<void> {
    timer = null;
    if (closed) return;
    try {
      const c = await connect<MasterToAllocator, AllocatorFrame>({
        url: opts.url,
        socket: wsSocket,
        key: opts.key,
        role: 'master',
        user: opts.user,
        replySchema: allocatorToMasterSchema,
        timeoutMs: 5000,
        onPush: (frame) => {
          if (frame.type === 'wake') opts.onRegistered();
        },
        onClose: () => {
          if (conn !== c) return;
          conn = null;
          down('the connection was closed');
          schedule();
        },
      });
      if (closed) return c.close();
      await c.request({ type: 'register', user: opts.user, ...opts.registration() }, 30_000);
      for (const [node, reachable] of reachability) await c.request({ type: 'nodeLink', user: opts.user, node, reachable });
      conn = c;
      retryMs = RETRY_MIN_MS;
      if (downSince !== null) opts.log(`qpy-multiuser reachable again after ${((Date.now() - downSince) / 1000).toFixed(1)} s`);
      else opts.log('registered with qpy-multiuser');
      downSince = null;
      lastProblem = '';
      opts.onRegistered();
    } catch (err) {
      down((err as Error).message);
      schedule();
    } finally {
      markFirst();
    }
  }

  function schedule(): void {
    if (closed || timer) return;
    timer = setTimeout(() => void attempt(), retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  }

  void attempt();

  return {
    firstAttempt,
    reachable: () => conn !== null,
    async request(message: AllocatorRequest): Promise<AllocatorToMaster> {
      if (message.type === 'nodeLink') reachability.set(message.node, message.reachable);
      const c = conn;
      if (c === null) {
        if (message.type === 'release') return { type: 'released', id: 0, found: true };
        if (message.type === 'feasible') return { type: 'feasibility', id: 0, problem: null };
        if (message.type === 'nodeLink') return { type: 'noted', id: 0 };
        return unreachable(0);
      }
      try {
        const reply = await c.request(message);
        if (reply.type === 'wake') return unreachable(0); // never a reply: the schema allows it only as a push
        if (reply.type === 'granted') opts.onAddress(reply.node, reply.address);
        return reply;
      } catch (err) {
        if (err instanceof QpyError && err.code !== 'MASTER_UNREACHABLE') return err.toReply(0);
        return unreachable(0);
      }
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      conn?.close();
      conn = null;
    },
  };
}
