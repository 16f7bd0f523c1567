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
 * answered ALLOCATOR_UNREACHABLE (the job waits); a release is answered at
 * once, and sent once a registration is done (`unsent`): the next
 * registration settles a job that ended before it was made, but one made
 * while the job still ran lists it, and the daemon would keep its slot
 * charged; a submission is accepted unchecked.
 *
 * When the daemon says this user may not use the cluster (NOT_ALLOWED at the
 * handshake, to the registration or to a request), or keeps refusing the
 * key (UNAUTHENTICATED at two handshakes in a row), the link remembers why
 * (`denied`) until a registration succeeds or a request is answered again:
 * submissions are refused, and `check` and `why` say so. Meanwhile the
 * daemon is asked again every DENIED_RETRY_MS.
 *
 * Off loopback the link is TLS with the daemon's certificate pinned (`pin`):
 * a server with another certificate is refused before anything is sent,
 * and remembered as `denied` (CERTIFICATE_MISMATCH: join again) the same
 * way. When the administrator rotates the certificate, the daemon pushes the
 * new fingerprint (`certificate`): it is stored, then confirmed
 * (`certificateStored`).
 */
import { QpyError } from '../../errors.js';
import {
  allocatorToMasterSchema,
  type AllocatorFrame,
  type AllocatorToMaster,
  type MasterToAllocator,
  type Slot,
} from '../../protocol/master-allocator.js';
import { connect, type Connection } from '../../transport/client.js';
import { wsSocket } from '../../transport/ws-socket.js';
import type { AllocatorLink, AllocatorRequest } from './allocator-link.js';
import type { Log } from '../shared/log.js';

export interface MultiuserLinkOptions {
  url: string;
  /** The user's key, read again at each connection (`qpy join` may have replaced it). */
  key: Buffer | (() => Buffer);
  user: string;
  log: Log;
  /** What to register with: the running jobs' slots and the queue size, now. */
  registration(): { running: Slot[]; queueSize: number; gpuQueue?: number };
  /** After each successful registration, and whenever the daemon says room may have freed up: start a dispatch pass. */
  onRegistered(): void;
  /** Each granted node's address (the master keeps them to reach the node again after a restart). */
  onAddress(node: string, address: string): void;
  /** qpy-multiuser says a node is gone for good (a Slurm pilot ended): its jobs are node_failed. */
  onNodeGone?(node: string, reason: string): void;
  /** For a wss:// URL: the pinned certificate (master-nodes.ts filePin). */
  pin?: LinkPin;
  /** Where the daemon is (`host:port`), for the hint to join again. */
  joinAt?: string;
}

/** The certificate pin a link keeps (in multiuser.json). */
export interface LinkPin {
  /** The fingerprints to accept now, read again at each connection (a rotation changes them). */
  pinned(): string[];
  /** Pin `fingerprint` from now on (the daemon rotated its certificate); throws if it cannot be stored. */
  store(fingerprint: string): void;
  /** A connection presented `fingerprint`, one of the pinned (an older pin can go). */
  seen(fingerprint: string): void;
}

export interface MultiuserLink extends AllocatorLink {
  /** Resolves after the first registration attempt (successful or not). */
  readonly firstAttempt: Promise<void>;
  close(): void;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1000;
/** While refused, the daemon is asked again this often (it is not hammered, and a user allowed again is noticed soon). */
const DENIED_RETRY_MS = 5000;

const ASK_ADMIN = 'ask your qpy administrator to allow you again; your queued jobs start then';
const JOIN_AGAIN = 'ask your qpy administrator, or join again with a new code: qpy join HOST:PORT';
const isMismatch = (e: { code?: string } | null | undefined): boolean => e?.code === 'CERTIFICATE_MISMATCH';

/** Is this reply (or error) the daemon refusing this user? */
const isNotAllowed = (e: { code?: string } | null | undefined): boolean => e?.code === 'NOT_ALLOWED';

export function multiuserLink(opts: MultiuserLinkOptions): MultiuserLink {
  let conn: Connection<MasterToAllocator, AllocatorFrame> | null = null;
  let closed = false;
  let retryMs = RETRY_MIN_MS;
  let timer: NodeJS.Timeout | null = null;
  let downSince: number | null = null;
  let lastProblem = '';
  /** Why the daemon refuses this user, while it does; `handshake`: at connection, `request`: to a request. */
  let denied: { error: QpyError; from: 'handshake' | 'request' } | null = null;
  let keyRefusals = 0;
  let deniedTimer: NodeJS.Timeout | null = null;
  const reachability = new Map<string, { reachable: boolean; reason?: string }>();
  /**
   * Releases asked while no connection was registered, by job: sent once one is. A registration
   * under way may have listed their jobs as running (the daemon would keep their slots charged);
   * for a job it did not list, the daemon finds no slot, and nothing changes.
   */
  const unsent = new Map<number, Extract<AllocatorRequest, { type: 'release' }>>();
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

  const joinAgain = JOIN_AGAIN.replace('HOST:PORT', opts.joinAt ?? 'HOST:PORT');
  const rejoinAfterRotation = `if the administrator rotated the certificate while this master was away, join again with a new code from them: qpy join ${opts.joinAt ?? 'HOST:PORT'}; if not, someone may be intercepting the connection: tell your administrator`;

  function deny(error: QpyError, from: 'handshake' | 'request'): void {
    const message = isNotAllowed(error)
      ? error.message
      : isMismatch(error)
        ? `qpy-multiuser's TLS certificate is not the one this master pinned (${error.message})`
        : `qpy-multiuser does not accept your key (${error.message})`;
    const was = denied?.error.message;
    denied = {
      error: new QpyError(error.code, message, isNotAllowed(error) ? ASK_ADMIN : isMismatch(error) ? rejoinAfterRotation : joinAgain),
      from,
    };
    if (was !== message)
      opts.log(
        `${isMismatch(error) ? 'refusing qpy-multiuser' : 'qpy-multiuser refuses this user'}: ${message}: queued jobs wait, new jobs are refused (${denied.error.hint})`,
      );
    if (from === 'request' && deniedTimer === null) {
      // Connected, but refused: ask again now and then (a dispatch pass asks for the first queued job).
      deniedTimer = setInterval(() => opts.onRegistered(), DENIED_RETRY_MS);
      deniedTimer.unref();
    }
  }

  function allowed(): void {
    keyRefusals = 0;
    if (denied === null) return;
    denied = null;
    if (deniedTimer) clearInterval(deniedTimer);
    deniedTimer = null;
    opts.log('qpy-multiuser accepts this user again');
  }

  async function attempt(): Promise<void> {
    timer = null;
    if (closed) return;
    let opened: Connection<MasterToAllocator, AllocatorFrame> | null = null;
    try {
      const c = await connect<MasterToAllocator, AllocatorFrame>({
        url: opts.url,
        socket: wsSocket,
        key: typeof opts.key === 'function' ? opts.key() : opts.key,
        role: 'master',
        user: opts.user,
        replySchema: allocatorToMasterSchema,
        timeoutMs: 5000,
        ...(opts.pin ? { pin: { pinned: opts.pin.pinned(), seen: opts.pin.seen } } : {}),
        onPush: (frame) => {
          if (frame.type === 'wake') opts.onRegistered();
          if (frame.type === 'certificate') storeCertificate(c, frame.fingerprint);
          if (frame.type === 'nodeGone') opts.onNodeGone?.(frame.node, frame.reason);
        },
        onClose: (err?: QpyError) => {
          if (conn !== c) return;
          conn = null;
          // The daemon says why it closed: a user it no longer allows is told so at once.
          if (err !== undefined && isNotAllowed(err)) deny(err, 'handshake');
          down(err !== undefined ? err.message : 'the connection was closed');
          schedule();
        },
      });
      opened = c;
      if (closed) return c.close();
      await c.request({ type: 'register', user: opts.user, ...opts.registration() }, 30_000);
      for (const [node, r] of reachability) await c.request({ type: 'nodeLink', user: opts.user, node, ...r });
      conn = c;
      for (const release of unsent.values()) void c.request(release).catch(() => undefined);
      unsent.clear();
      retryMs = RETRY_MIN_MS;
      if (denied?.from === 'handshake') allowed();
      keyRefusals = 0;
      if (downSince !== null) opts.log(`qpy-multiuser reachable again after ${((Date.now() - downSince) / 1000).toFixed(1)} s`);
      else opts.log('registered with qpy-multiuser');
      downSince = null;
      lastProblem = '';
      opts.onRegistered();
    } catch (err) {
      if (opened !== null && conn !== opened) opened.close();
      if (err instanceof QpyError && (isNotAllowed(err) || isMismatch(err))) deny(err, 'handshake');
      else if (err instanceof QpyError && err.code === 'UNAUTHENTICATED' && opened === null && ++keyRefusals >= 2) deny(err, 'handshake');
      down((err as Error).message);
      schedule();
    } finally {
      markFirst();
    }
  }

  /** The daemon rotated its certificate: pin the new one, then tell it so (it switches once its masters have). */
  function storeCertificate(c: Connection<MasterToAllocator, AllocatorFrame>, fingerprint: string): void {
    if (!opts.pin) return;
    try {
      opts.pin.store(fingerprint);
    } catch (err) {
      opts.log(
        `qpy-multiuser rotated its TLS certificate, but the new fingerprint could not be stored: ${(err as Error).message}: this master must join again once it reconnects`,
      );
      return;
    }
    opts.log(`qpy-multiuser rotated its TLS certificate: pinned SHA-256 ${fingerprint} from now on`);
    c.request({ type: 'certificateStored', user: opts.user, fingerprint }).catch((err: Error) =>
      opts.log(`could not confirm the new certificate to qpy-multiuser: ${err.message}`),
    );
  }

  function schedule(): void {
    if (closed || timer) return;
    timer = setTimeout(() => void attempt(), denied !== null ? DENIED_RETRY_MS : retryMs);
    timer.unref();
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  }

  /** The daemon no longer knows this user on an open connection: connect again (the handshake says why). */
  function reconnect(c: Connection<MasterToAllocator, AllocatorFrame>, why: string): void {
    if (conn !== c) return;
    conn = null;
    c.close();
    down(why);
    schedule();
  }

  void attempt();

  return {
    firstAttempt,
    reachable: () => conn !== null,
    denied: () => denied?.error ?? null,
    async request(message: AllocatorRequest): Promise<AllocatorToMaster> {
      if (message.type === 'nodeLink')
        reachability.set(
          message.node,
          message.reason === undefined ? { reachable: message.reachable } : { reachable: message.reachable, reason: message.reason },
        );
      const c = conn;
      if (c === null) {
        if (message.type === 'release') {
          unsent.set(message.jobId, message);
          return { type: 'released', id: 0, found: true };
        }
        if (message.type === 'feasible') return { type: 'feasibility', id: 0, problem: null };
        if (message.type === 'nodeLink') return { type: 'noted', id: 0 };
        if (denied !== null) return denied.error.toReply(0);
        return unreachable(0);
      }
      try {
        const reply = await c.request(message);
        if (reply.type === 'wake' || reply.type === 'certificate' || reply.type === 'nodeGone') return unreachable(0); // never a reply: the schema allows these only as pushes
        if (reply.type === 'granted') opts.onAddress(reply.node, reply.address);
        if (message.type === 'request' && denied?.from === 'request') allowed();
        return reply;
      } catch (err) {
        if (err instanceof QpyError && isNotAllowed(err)) {
          deny(err, 'request');
          return denied!.error.toReply(0);
        }
        // Forgotten by the daemon (removed while idle): connect again; the handshake tells whether this user is still allowed.
        if (err instanceof QpyError && err.code === 'BAD_REQUEST' && /is not registered/.test(err.message)) {
          reconnect(c, err.message);
          return unreachable(0);
        }
        if (err instanceof QpyError && err.code !== 'MASTER_UNREACHABLE') return err.toReply(0);
        return unreachable(0);
      }
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (deniedTimer) clearInterval(deniedTimer);
      conn?.close();
      conn = null;
    },
  };
}
