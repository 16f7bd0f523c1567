/**
 * The gate every connection passes before it is authenticated: it carries out
 * the decisions of preauth-limits.ts on the sockets of server.ts.
 *
 * A connection is counted from the moment it is accepted (before any HTTP),
 * so a raw TCP socket that never sends a byte is closed at the handshake
 * deadline like a WebSocket that never authenticates.
 *
 * The first frame is capped by counting the bytes read from the socket after
 * the upgrade, in a 'data' listener that runs before the one of `ws`: past
 * MAX_PREAUTH_BYTES the socket is destroyed at once, whatever the frame
 * headers claim and however the frame is split. This needs nothing of the
 * internals of `ws` (its Receiver's limit is fixed when the socket is handed
 * over, and changing it afterwards would mean writing to a private field that
 * a new version could rename, silently lifting the cap) and no parser of our
 * own; once the peer has authenticated the listener goes, and `ws`'s own
 * `maxPayload` (server.ts) is the only limit.
 *
 * Peers: a loopback peer is the uid owning its socket, read from
 * /proc/net/tcp only when as many loopback connections wait as one peer may
 * hold, or when a handshake fails; the
 * reads are batched (one in flight, the next serving every connection that
 * arrived meanwhile), so a flood costs one table read at a time, not one per
 * connection.
 */
import type { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { findConnection, normalizeAddress, readTcpTables, userName, type Endpoint } from './socket-owner.js';
import {
  admitConnection,
  capsForFileLimit,
  MAX_PEERS_REMEMBERED,
  MAX_PREAUTH_BYTES,
  onCapped,
  onFailure,
  parseOpenFileLimit,
  reportLine,
  takeReport,
  type Failures,
  type PreauthCaps,
} from './preauth-limits.js';
import { isLoopback } from '../protocol/cluster.js';

export interface Gate {
  readonly caps: PreauthCaps;
  /** A connection was accepted (before any HTTP): counted, capped, given its deadline. */
  connection(socket: Socket): void;
  /**
   * The connection asks for a WebSocket upgrade (call before handing it to
   * `ws`): from now on its bytes count against MAX_PREAUTH_BYTES.
   * `onDeadline` runs at the handshake deadline instead of a plain close.
   */
  upgrading(socket: Socket, onDeadline: () => void): void;
  /** The peer proved its key: no pre-auth limit applies to it any more. */
  authenticated(socket: Socket): void;
  /** The peer failed its handshake: how long to hold the refusal, and whether to log it by itself. */
  failed(socket: Socket): Promise<{ delayMs: number; logIt: boolean }>;
  /** Accepting a connection failed (EMFILE): the first of a period is logged, the rest counted. */
  acceptError(err: Error): void;
  close(): void;
}

export interface GateOptions {
  handshakeMs: number;
  reportMs: number;
  log(line: string): void;
  caps?: PreauthCaps;
}

interface Waiting {
  socket: Socket;
  /** It sent its HTTP request (an upgrade): no longer a candidate to make room for others. */
  heard: boolean;
  /** 'unix', `uid:N` or `addr:ADDRESS`; null while a loopback peer's uid is not looked up yet. */
  peer: string | null;
  lookup: Promise<string> | null;
  loopback: boolean;
  address: string;
  remote: Endpoint | null;
  local: Endpoint | null;
  timer: NodeJS.Timeout;
  bytes: number;
  onData: ((chunk: Buffer) => void) | null;
  onDeadline: (() => void) | null;
}

function fileLimit(): number | null {
  try {
    return parseOpenFileLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}

export function createGate(opts: GateOptions): Gate {
  const caps = opts.caps ?? capsForFileLimit(fileLimit());
  /** Unauthenticated connections, oldest first. */
  const waiting = new Map<Socket, Waiting>();
  /** Every connection seen, for a refusal that comes after its socket closed. */
  const seen = new WeakMap<Socket, Waiting>();
  let records = new Map<string, Failures>();
  let acceptErrors = 0;

  /** The record a peer's failures go to: its own, or past MAX_PEERS_REMEMBERED peers (addresses of a whole network), one for all the others. */
  const recordKey = (peer: string): string => (records.has(peer) || records.size < MAX_PEERS_REMEMBERED ? peer : 'others');
  const label = async (peer: string): Promise<string> => {
    if (peer === 'unix') return 'the Unix socket';
    if (peer === 'others') return 'other peers';
    if (peer.startsWith('uid:')) {
      const uid = Number(peer.slice(4));
      const name = await userName(uid).catch(() => null);
      return `uid ${uid}${name ? ` (${name})` : ''}`;
    }
    return peer.slice('addr:'.length);
  };

  const report = setInterval(() => {
    const { reports, keep } = takeReport(records, Date.now());
    records = keep;
    for (const r of reports) void label(r.peer).then((l) => opts.log(reportLine(r, l, opts.reportMs)));
    if (acceptErrors > 1) opts.log(`could not accept ${acceptErrors} connections since the last report (too many open files?)`);
    acceptErrors = 0;
  }, opts.reportMs);
  report.unref();

  // ---- uids of loopback peers, one /proc/net/tcp read at a time ----
  const batch: { w: Waiting; resolve(uid: number | null): void }[] = [];
  let reading = false;
  const drain = async () => {
    reading = true;
    try {
      while (batch.length > 0) {
        const now = batch.splice(0);
        const entries = await readTcpTables().catch(() => []);
        for (const { w, resolve } of now) resolve(w.remote && w.local ? (findConnection(entries, w.remote, w.local)?.uid ?? null) : null);
      }
    } finally {
      reading = false;
    }
  };
  const peerOf = (w: Waiting): Promise<string> => {
    if (w.peer !== null) return Promise.resolve(w.peer);
    w.lookup ??= new Promise<number | null>((resolve) => {
      batch.push({ w, resolve });
      if (reading) return;
      reading = true;
      setImmediate(() => void drain()); // the lookups asked for in this turn share the read
    }).then((uid) => (w.peer = uid !== null ? `uid:${uid}` : `addr:${w.address}`));
    return w.lookup;
  };

  const forget = (w: Waiting) => {
    clearTimeout(w.timer);
    if (w.onData) w.socket.off('data', w.onData);
    w.onData = null;
    waiting.delete(w.socket);
  };
  const capped = (who: string) => {
    const peer = recordKey(who);
    const r = onCapped(records.get(peer), Date.now());
    records.set(peer, r.next);
    if (r.announce)
      void label(peer).then((l) =>
        opts.log(
          `closing connections from ${l} at once: too many unauthenticated connections (at most ${caps.perPeer} per peer, ${caps.total} in all)`,
        ),
      );
  };
  const cut = (w: Waiting) => {
    forget(w);
    w.socket.destroy();
  };

  const expire = (w: Waiting) => {
    if (w.onDeadline) {
      w.onDeadline();
      setTimeout(() => w.socket.destroy(), 2000).unref();
      return;
    }
    // No WebSocket handshake at all (a raw socket, or plain HTTP): counted as a failed handshake, and closed once its peer is known.
    forget(w);
    void closeFailed(w, `no WebSocket handshake within ${opts.handshakeMs} ms`);
  };
  /** Count a failed handshake of `w`'s peer (looked up while its socket is still open), log it unless counted for the report, close it. */
  const closeFailed = async (w: Waiting, why: string) => {
    try {
      const { logIt } = await gate.failed(w.socket);
      if (logIt) opts.log(`closed a connection from ${await label(await peerOf(w))}: ${why}`);
    } finally {
      w.socket.destroy();
    }
  };

  const gate: Gate = {
    caps,
    connection(socket) {
      const remoteAddress = socket.remoteAddress;
      const address = remoteAddress === undefined ? 'unix' : (normalizeAddress(remoteAddress) ?? remoteAddress);
      const loopback = remoteAddress !== undefined && isLoopback(address);
      const w: Waiting = {
        socket,
        heard: false,
        peer: remoteAddress === undefined ? 'unix' : loopback ? null : `addr:${address}`,
        lookup: null,
        loopback,
        address,
        remote: remoteAddress !== undefined ? { address: remoteAddress, port: socket.remotePort ?? 0 } : null,
        local: socket.localAddress !== undefined ? { address: socket.localAddress, port: socket.localPort ?? 0 } : null,
        timer: setTimeout(() => expire(w), opts.handshakeMs),
        bytes: 0,
        onData: null,
        onDeadline: null,
      };
      /** Decide with the counts of the others, and carry it out; 'identify' reads the uid and decides again. */
      const decide = (): void => {
        let total = 0;
        let ofPeer = 0;
        let ofAddress = 0;
        for (const x of waiting.values()) {
          if (x === w) continue;
          total++;
          if (w.peer !== null && x.peer === w.peer) ofPeer++;
          if (w.loopback ? x.loopback : x.address === w.address) ofAddress++;
        }
        const decision = admitConnection({ total, ofPeer: w.peer === null ? null : ofPeer, ofAddress, shared: w.peer === 'unix' }, caps);
        if (decision === 'accept') return;
        if (decision === 'evict-unix' || decision === 'evict-silent') {
          const give = [...waiting.values()].find((x) => x !== w && (decision === 'evict-unix' ? x.peer === 'unix' : !x.heard));
          if (give) {
            cut(give);
            capped(give.peer ?? `addr:${give.address}`);
            return;
          }
        }
        if (decision === 'identify') {
          // Its uid, and in the same read those of the loopback connections let in unread.
          for (const x of waiting.values()) if (x.loopback && x.peer === null && x !== w) void peerOf(x);
          return void peerOf(w).then(() => {
            if (waiting.has(socket)) decide();
          });
        }
        cut(w);
        capped(w.peer ?? `addr:${address}`);
      };
      waiting.set(socket, w);
      seen.set(socket, w);
      socket.once('close', () => forget(w));
      decide();
    },
    upgrading(socket, onDeadline) {
      const w = waiting.get(socket);
      if (!w) return void socket.destroy();
      w.onDeadline = onDeadline;
      w.heard = true;
      let over = false;
      w.onData = (chunk: Buffer) => {
        w.bytes += chunk.length;
        if (over) return void socket.destroy(); // read on while its peer was looked up: no more waiting
        if (w.bytes <= MAX_PREAUTH_BYTES) return;
        // Over budget: nothing more is read; closed once its peer is known (for the log).
        over = true;
        socket.pause();
        clearTimeout(w.timer);
        void closeFailed(w, `more than ${MAX_PREAUTH_BYTES} bytes before authenticating`).finally(() => forget(w));
      };
      socket.on('data', w.onData);
    },
    authenticated(socket) {
      const w = waiting.get(socket);
      if (w) forget(w);
    },
    async failed(socket) {
      const w = seen.get(socket);
      if (!w) return { delayMs: 0, logIt: true };
      const peer = recordKey(await peerOf(w));
      const r = onFailure(records.get(peer), Date.now());
      records.set(peer, r.next);
      return { delayMs: r.delayMs, logIt: r.logIt };
    },
    acceptError(err) {
      if (acceptErrors++ === 0) opts.log(`could not accept a connection: ${err.message}`);
    },
    close() {
      clearInterval(report);
      for (const w of [...waiting.values()]) forget(w);
    },
  };
  return gate;
}
