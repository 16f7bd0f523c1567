/**
 * An authenticated WebSocket server (ws in noServer mode on node:http).
 *
 * Per connection: send `hello` with a fresh nonce; the first frame must be a
 * valid `auth` within `handshakeMs`, with a MAC made from the key that
 * `keyFor` returns for the claimed role and user; then `welcome` with the
 * server's own proof. Every later frame is parsed with `requestSchema` and
 * answered by `handle`, exactly one reply per request. Bad frames get a coded
 * error reply; nothing a client sends can throw out of this module.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, unlinkSync } from 'node:fs';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { authSchema, type Auth } from '../protocol/handshake.js';
import { parseFrame } from '../protocol/parse.js';
import type { Schema } from '../protocol/schema.js';
import { MAX_REQUEST_BYTES, PROTOCOL_VERSION } from '../protocol/version.js';
import { QpyError } from '../errors.js';
import { clientProof, freshNonce, sameMac, serverProof } from './auth.js';

/** Who is on the other end of an authenticated connection. */
export interface Peer {
  readonly role: Auth['role'];
  readonly user: string;
  /** Send an unsolicited frame (a push) to this peer. */
  send(frame: object): void;
  close(): void;
}

export interface ServerOptions<In extends { id: number }> {
  host: string;
  port: number;
  /** The key a peer claiming (role, user) must prove, or null to refuse. */
  keyFor(role: Auth['role'], user: string): Buffer | null;
  /** What a peer of `role` may send, or null if that role may not connect here. */
  requestSchema(role: Auth['role']): Schema<In> | null;
  handle(request: In, peer: Peer): Promise<object> | object;
  handshakeMs: number;
  serverName: string;
  /**
   * Also serve on this Unix domain socket (replacing a stale one). Peers on
   * this host use it: only the account owning its directory can put a socket
   * there, so no other account can stand in for the daemon.
   */
  socketPath?: string;
  log(line: string): void;
  onDisconnect?(peer: Peer): void;
}

export interface RunningServer {
  readonly port: number;
  readonly http: Server;
  /** Stop accepting, close every socket. */
  close(): Promise<void>;
}

/** Frames bigger than this are cut by ws itself (close 1009); smaller oversize frames get an error reply. */
const HARD_FRAME_LIMIT = 16 * MAX_REQUEST_BYTES;

export async function startServer<In extends { id: number }>(opts: ServerOptions<In>): Promise<RunningServer> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: HARD_FRAME_LIMIT });
  const httpServer = (): Server => {
    const h = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('qpy: WebSocket only\n');
    });
    h.on('upgrade', (req, socket, head) => {
      socket.on('error', () => socket.destroy());
      wss.handleUpgrade(req, socket, head, (ws) => serve(ws, opts));
    });
    h.on('clientError', (_err, socket) => socket.destroy());
    return h;
  };
  const listen = (h: Server, at: { port: number; host: string } | { path: string }) =>
    new Promise<void>((resolve, reject) => {
      h.once('error', reject);
      h.listen(at, () => {
        h.off('error', reject);
        resolve();
      });
    });
  const http = httpServer();
  await listen(http, { port: opts.port, host: opts.host });
  const port = (http.address() as AddressInfo).port;
  // The same service on a Unix domain socket, for peers on this host (see ServerOptions.socketPath).
  let local: Server | null = null;
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
      throw err;
    }
  }
  const closeOne = (h: Server) =>
    new Promise<void>((resolve) => {
      h.close(() => resolve());
      h.closeAllConnections();
    });
  return {
    port,
    http,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await Promise.all([closeOne(http), ...(local ? [closeOne(local)] : [])]);
    },
  };
}

function serve<In extends { id: number }>(ws: WebSocket, opts: ServerOptions<In>): void {
  const nonce = freshNonce();
  let peer: Peer | null = null;
  const send = (frame: object) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  const fail = (err: QpyError) => {
    send(err.toReply(null));
    ws.close(4001, err.code);
  };
  const deadline = setTimeout(() => fail(new QpyError('UNAUTHENTICATED', 'no authentication within the deadline')), opts.handshakeMs);
  deadline.unref();
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    clearTimeout(deadline);
    if (peer) opts.onDisconnect?.(peer);
  });
  send({ type: 'hello', protocol: PROTOCOL_VERSION, nonce, server: opts.serverName });

  ws.on('message', (data: RawData) => {
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (peer === null) {
      clearTimeout(deadline);
      const auth = parseFrame(raw, authSchema, 4096);
      if (!auth.ok) return fail(new QpyError('UNAUTHENTICATED', `expected an auth frame: ${auth.message}`));
      const a = auth.value;
      if (a.protocol !== PROTOCOL_VERSION) {
        return fail(new QpyError('VERSION_MISMATCH', `${opts.serverName} speaks protocol ${PROTOCOL_VERSION}, the client ${a.protocol}`, 'restart the daemon after an upgrade: qpy restart'));
      }
      const key = opts.keyFor(a.role, a.user);
      if (key === null || !sameMac(a.mac, clientProof(key, a.role, nonce, a.nonce))) {
        opts.log(`refused ${a.role} ${JSON.stringify(a.user)}: bad key`);
        return fail(new QpyError('UNAUTHENTICATED', 'authentication failed: wrong key', 'check that the key file belongs to this qpy directory'));
      }
      peer = { role: a.role, user: a.user, send, close: () => ws.close() };
      send({ type: 'welcome', mac: serverProof(key, nonce, a.nonce) });
      return;
    }
    const schema = opts.requestSchema(peer.role);
    if (schema === null) return fail(new QpyError('UNAUTHENTICATED', `role ${peer.role} may not send requests here`));
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
        send(new QpyError('INTERNAL', `internal error: ${(err as Error)?.message ?? String(err)}`, 'see the daemon log').toReply(request.id));
      });
  });
}
