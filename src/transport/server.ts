/**
 * An authenticated WebSocket server (ws in noServer mode on node:http).
 *
 * This file holds the listeners (TCP or TLS, and the Unix socket) and hands
 * each upgraded socket to server-connection.ts, which runs the handshake and
 * answers requests. Per connection: send `hello` with a fresh nonce; the
 * first frame must be a valid `auth` within `handshakeMs`, with a MAC made
 * from the key that `keyFor` returns for the claimed role and user; then
 * `welcome` with the server's own proof. Every later frame is parsed with
 * `requestSchema` and answered by `handle`, exactly one reply per request.
 * Bad frames get a coded error reply; nothing a client sends can throw out.
 * The option and result types live in server-types.ts.
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
import { WebSocketServer } from 'ws';
import { MAX_REQUEST_BYTES } from '../protocol/version.js';
import { describePeer, type Endpoint } from './socket-owner.js';
import { createGate } from './preauth-gate.js';
import { REPORT_EVERY_MS } from './preauth-limits.js';
import { serve } from './server-connection.js';
import type { RunningServer, ServerCertificate, ServerOptions } from './server-types.js';

export type { Peer, RunningServer, ServerCertificate, ServerOptions } from './server-types.js';

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
