/**
 * An authenticated WebSocket server (ws in noServer mode on node:http).
 *
 * Per connection: send `hello` with a fresh nonce; the first frame must be a
 * valid `auth` within `handshakeMs`, with a MAC made from the key that
 * `keyFor` returns for the claimed role and user; then `welcome` with the
 * server's own proof. Every later frame is parsed with `requestSchema` and
 * answered by `handle`, exactly one reply per request. Bad frames get a coded
 * error reply; nothing a client sends can throw out of this module.
 *
 * Before authentication every connection passes the gate of
 * preauth-gate.ts: a byte budget for the first frame, counted while it is
 * read; the handshake deadline from the moment the socket is accepted (a raw
 * socket that never upgrades is closed too); caps on unauthenticated
 * connections per peer and in all; failed handshakes of a peer slowed down.
 *
 * A refused handshake is logged naming the peer: its address and port, and
 * for a peer on this machine the uid, user and pid owning its socket
 * (socket-owner.ts), looked up before the refusal goes out and the socket
 * closes. Past the first few refusals of a peer in a minute, the gate logs
 * counts once a minute instead.
 *
 * With `tls`, the TCP listener speaks TLS (https), and its certificate can be
 * replaced while it runs (new connections get the new one); the Unix socket
 * stays plain: only this host reaches it, through a directory no other
 * account can write.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { chmodSync, unlinkSync } from 'node:fs';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { authSchema, type Auth } from '../protocol/handshake.js';
import { parseFrame } from '../protocol/parse.js';
import type { Schema } from '../protocol/schema.js';
import { MAX_REQUEST_BYTES, PROTOCOL_VERSION } from '../protocol/version.js';
import { QpyError } from '../errors.js';
import { clientProof, freshNonce, sameMac, serverProof } from './auth.js';
import { describePeer, type Endpoint } from './socket-owner.js';
import { createGate, type Gate } from './preauth-gate.js';
import { MAX_AUTH_FRAME_BYTES, REPORT_EVERY_MS, type PreauthCaps } from './preauth-limits.js';

/** Who is on the other end of an authenticated connection. */
export interface Peer {
  readonly role: Auth['role'];
  readonly user: string;
  /** Send an unsolicited frame (a push) to this peer. */
  send(frame: object): void;
  /** Close the connection; with an error, send it first (`id: null`). Nothing the peer sends afterwards is handled. */
  close(err?: QpyError): void;
  /** The peer as a log names it: address:port, and uid, user and pid when it is on this machine. */
  describe(): Promise<string>;
}

export interface ServerOptions<In extends { id: number }> {
  host: string;
  port: number;
  /**
   * The key a peer claiming (role, user) must prove; null to refuse as a
   * wrong key would be; a QpyError to refuse with that error (for what is no
   * secret, such as a user the administrator removed).
   */
  keyFor(role: Auth['role'], user: string): Buffer | null | QpyError;
  /** The error a peer whose proof fails gets (default: UNAUTHENTICATED, wrong key). */
  wrongKey?(role: Auth['role'], user: string): QpyError;
  /** What a peer of `role` may send, or null if that role may not connect here. */
  requestSchema(role: Auth['role']): Schema<In> | null;
  handle(request: In, peer: Peer): Promise<object> | object;
  /** Unauthenticated sockets (raw TCP ones included) are closed this long after they were accepted. */
  handshakeMs: number;
  /** How often counts of refused handshakes are logged (default: once a minute). */
  refusalReportMs?: number;
  /** Caps on unauthenticated connections (default: from the open-file limit, see preauth-limits.ts). */
  preauthCaps?: PreauthCaps;
  serverName: string;
  /**
   * Also serve on this Unix domain socket (replacing a stale one). Peers on
   * this host use it: only the account owning its directory can put a socket
   * there, so no other account can stand in for the daemon.
   */
  socketPath?: string;
  /** Serve TLS on the TCP listener with this key and certificate (PEM). */
  tls?: ServerCertificate;
  log(line: string): void;
  /** A peer has proven its key. */
  onAuthenticated?(peer: Peer): void;
  onDisconnect?(peer: Peer): void;
}

/** A private key and its certificate, PEM (one text may hold both). */
export interface ServerCertificate {
  key: string;
  cert: string;
}

export interface RunningServer {
  readonly port: number;
  readonly http: Server | TlsServer;
  /** With `tls`: serve this certificate to new connections from now on (open ones keep theirs). */
  setCertificate(tls: ServerCertificate): void;
  /** Stop accepting, close every socket. */
  close(): Promise<void>;
}

/** Frames bigger than this are cut by ws itself (close 1009); smaller oversize frames get an error reply. */
const HARD_FRAME_LIMIT = 16 * MAX_REQUEST_BYTES;

export async function startServer<In extends { id: number }>(opts: ServerOptions<In>): Promise<RunningServer> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: HARD_FRAME_LIMIT });
  const gate = createGate({
    handshakeMs: opts.handshakeMs,
    reportMs: opts.refusalReportMs ?? REPORT_EVERY_MS,
    log: opts.log,
    ...(opts.preauthCaps ? { caps: opts.preauthCaps } : {}),
  });
  const httpServer = (tls?: ServerCertificate): Server | TlsServer => {
    const notWs = (_req: unknown, res: import('node:http').ServerResponse) =>
      void res.writeHead(426, { 'content-type': 'text/plain' }).end('qpy: WebSocket only\n');
    // The TLS handshake gets the same deadline as ours.
    const h = tls
      ? createTlsServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.3', handshakeTimeout: opts.handshakeMs }, notWs)
      : createServer(notWs);
    // A TLS peer enters the gate once its TLS handshake is done (TLS itself drops one silent past the deadline):
    // the gate then counts its decrypted bytes, on the same socket object the upgrade hands over.
    if (tls) h.on('secureConnection', (socket: Socket) => gate.connection(socket));
    else h.on('connection', (socket: Socket) => gate.connection(socket));
    h.on('upgrade', (req, socket, head) => {
      socket.on('error', () => socket.destroy());
      // Taken now: once the socket is closed, Node forgets them.
      const s = socket as Socket;
      const remote: Partial<Endpoint> = { address: s.remoteAddress, port: s.remotePort };
      const local: Partial<Endpoint> = { address: s.localAddress, port: s.localPort };
      let atDeadline: () => void = () => socket.destroy();
      gate.upgrading(s, () => atDeadline());
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        atDeadline = serve(ws, s, gate, opts, () => describePeer(remote, local));
      });
    });
    h.on('clientError', (_err, socket) => socket.destroy());
    h.on('tlsClientError', (_err, socket) => socket.destroy());
    return h;
  };
  const listen = (h: Server | TlsServer, at: { port: number; host: string } | { path: string }) =>
    new Promise<void>((resolve, reject) => {
      h.once('error', reject);
      h.listen(at, () => {
        h.off('error', reject);
        // Accepting can fail later (EMFILE): logged, never fatal.
        h.on('error', (err) => gate.acceptError(err));
        resolve();
      });
    });
  const http = httpServer(opts.tls);
  await listen(http, { port: opts.port, host: opts.host }).catch((err: unknown) => {
    gate.close();
    throw err;
  });
  const port = (http.address() as AddressInfo).port;
  // The same service on a Unix domain socket, for peers on this host (see ServerOptions.socketPath).
  let local: Server | TlsServer | null = null;
  if (opts.socketPath !== undefined) {
    local = httpServer();
    try {
      unlinkSync(opts.socketPath); // left by a daemon that was killed; the caller holds the directory's lock
    } catch {
      /* none */
    }
    try {
      await listen(local, { path: opts.socketPath });
      chmodSync(opts.socketPath, 0o666); // who may connect is decided by the handshake, not the file mode
    } catch (err) {
      await new Promise<void>((r) => http.close(() => r()));
      gate.close();
      throw err;
    }
  }
  const closeOne = (h: Server | TlsServer) =>
    new Promise<void>((resolve) => {
      h.close(() => resolve());
      h.closeAllConnections();
    });
  return {
    port,
    http,
    setCertificate: (tls) => {
      if (!opts.tls) throw new Error('this server does not speak TLS');
      (http as TlsServer).setSecureContext({ key: tls.key, cert: tls.cert });
    },
    close: async () => {
      gate.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await Promise.all([closeOne(http), ...(local ? [closeOne(local)] : [])]);
    },
  };
}

function defaultWrongKey(role: Auth['role']): QpyError {
  return role === 'join'
    ? new QpyError('UNAUTHENTICATED', 'the invitation code is wrong, used or expired', 'ask your administrator for a new one')
    : new QpyError('UNAUTHENTICATED', 'authentication failed: wrong key', 'check that the key file belongs to this qpy directory');
}

/**
 * Serve one WebSocket: the handshake, then requests. Returns what to do at
 * the handshake deadline (the gate keeps the clock from the moment the socket
 * was accepted).
 */
function serve<In extends { id: number }>(
  ws: WebSocket,
  socket: Socket,
  gate: Gate,
  opts: ServerOptions<In>,
  describe: () => Promise<string>,
): () => void {
  const nonce = freshNonce();
  let peer: Peer | null = null;
  // Set once the server refuses or closes: nothing more is read.
  let ending = false;
  const send = (frame: object) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  const end = (err: QpyError | undefined, code: number) => {
    ending = true;
    if (err) send(err.toReply(null));
    ws.close(code, err?.code);
    // A peer that does not answer the close frame is cut off.
    setTimeout(() => ws.terminate(), 1000).unref();
  };
  /**
   * Refuse the handshake: counted against the peer, held as long as the gate
   * says (not at the deadline), logged naming who it was (looked up while its
   * socket is still open) unless the gate counts it for its report; then
   * answered and closed.
   */
  const refuse = (err: QpyError, claim: string, atDeadline = false) => {
    if (ending) return;
    ending = true;
    void gate.failed(socket).then(({ delayMs, logIt }) => {
      const go = () => {
        if (!logIt) return end(err, 4001);
        void describe()
          .catch(() => 'an unknown peer')
          .then((who) => {
            opts.log(`refused ${claim}from ${who}: ${err.message}`);
            end(err, 4001);
          });
      };
      if (delayMs > 0 && !atDeadline) setTimeout(go, delayMs).unref();
      else go();
    });
  };
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    if (peer) opts.onDisconnect?.(peer);
  });
  send({ type: 'hello', protocol: PROTOCOL_VERSION, nonce, server: opts.serverName });

  ws.on('message', (data: RawData) => {
    if (ending) return;
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (peer === null) {
      const auth = parseFrame(raw, authSchema, MAX_AUTH_FRAME_BYTES);
      if (!auth.ok) return refuse(new QpyError('UNAUTHENTICATED', `expected an auth frame: ${auth.message}`), '');
      const a = auth.value;
      const claim = `${a.role} ${JSON.stringify(a.user)} `;
      if (a.protocol !== PROTOCOL_VERSION) {
        return refuse(
          new QpyError(
            'VERSION_MISMATCH',
            `${opts.serverName} speaks protocol ${PROTOCOL_VERSION}, the client ${a.protocol}`,
            'restart the daemon after an upgrade: qpy restart',
          ),
          claim,
        );
      }
      const key = opts.keyFor(a.role, a.user);
      if (key instanceof QpyError) return refuse(key, claim);
      if (key === null || !sameMac(a.mac, clientProof(key, a.role, nonce, a.nonce))) {
        return refuse(opts.wrongKey?.(a.role, a.user) ?? defaultWrongKey(a.role), claim);
      }
      gate.authenticated(socket);
      peer = { role: a.role, user: a.user, send, close: (err) => end(err, 4003), describe };
      send({ type: 'welcome', mac: serverProof(key, nonce, a.nonce) });
      opts.onAuthenticated?.(peer);
      return;
    }
    const schema = opts.requestSchema(peer.role);
    if (schema === null) return end(new QpyError('UNAUTHENTICATED', `role ${peer.role} may not send requests here`), 4001);
    const parsed = parseFrame(raw, schema, MAX_REQUEST_BYTES);
    if (!parsed.ok) {
      send(new QpyError(parsed.code, parsed.message).toReply(parsed.id));
      return;
    }
    const request = parsed.value;
    const current = peer;
    Promise.resolve()
      .then(() => opts.handle(request, current))
      .then(send, (err: unknown) => {
        if (err instanceof QpyError) return send(err.toReply(request.id));
        opts.log(`internal error handling ${JSON.stringify((request as { type?: string }).type)}: ${(err as Error)?.stack ?? String(err)}`);
        send(
          new QpyError('INTERNAL', `internal error: ${(err as Error)?.message ?? String(err)}`, 'see the daemon log').toReply(request.id),
        );
      });
  });
  return () => {
    if (ending) ws.terminate();
    else refuse(new QpyError('UNAUTHENTICATED', 'no authentication within the deadline'), '', true);
  };
}
