/**
 * The shapes of the authenticated WebSocket server (server.ts): who a peer
 * is, what a caller passes to start one and what it gets back. Kept apart so
 * the connection handling (server-connection.ts) and the daemons can name
 * them without importing the listener.
 */
import type { Server } from 'node:http';
import type { Server as TlsServer } from 'node:https';
import type { Auth } from '../protocol/handshake.js';
import type { Schema } from '../protocol/schema.js';
import type { QpyError } from '../errors.js';
import type { PreauthCaps } from './preauth-limits.js';

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
