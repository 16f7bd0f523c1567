/**
 * One connection of the authenticated WebSocket server (server.ts): the
 * handshake (hello, auth checked against `keyFor`, welcome with the
 * server's proof, or a refusal logged and slowed by the pre-auth gate), then
 * every request parsed and answered by `handle`, exactly one reply each.
 * Nothing a client sends can throw out of here.
 */
import type { Socket } from 'node:net';
import type { WebSocket, RawData } from 'ws';
import { authSchema, type Auth } from '../protocol/handshake.js';
import { parseFrame } from '../protocol/parse.js';
import { MAX_REQUEST_BYTES, PROTOCOL_VERSION } from '../protocol/version.js';
import { QpyError } from '../errors.js';
import { clientProof, freshNonce, sameMac, serverProof } from './auth.js';
import type { Gate } from './preauth-gate.js';
import { MAX_AUTH_FRAME_BYTES } from './preauth-limits.js';
import type { Peer, ServerOptions } from './server-types.js';

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
export function serve<In extends { id: number }>(
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
