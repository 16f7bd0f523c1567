/**
 * The client end of an authenticated WebSocket link: connect, prove the key
 * (and check the server's proof), then send requests and match replies by
 * id. Replies are validated with the link's reply schema.
 */
import type { SocketFactory } from './frame-socket.js';
import { helloSchema, welcomeSchema } from '../protocol/handshake.js';
import { parseFrame } from '../protocol/parse.js';
import type { Schema } from '../protocol/schema.js';
import { MAX_REPLY_BYTES, PROTOCOL_VERSION, type Role } from '../protocol/version.js';
import { errorReplySchema } from '../protocol/user-master.js';
import { QpyError } from '../errors.js';
import { clientProof, freshNonce, sameMac, serverProof } from './auth.js';
import { CertificateMismatch, type PinOptions } from './pin.js';

export interface ConnectOptions<Out> {
  url: string;
  /** How to open the socket: wsSocket (ws-socket.ts) or lightSocket (light-socket.ts). */
  socket: SocketFactory;
  /** For a wss:// URL: the certificate fingerprints to accept (pin.ts). */
  pin?: PinOptions;
  key: Buffer;
  role: Role;
  user: string;
  replySchema: Schema<Out>;
  timeoutMs: number;
  /** Unsolicited frames (pushes) from the server. */
  onPush?(frame: Out): void;
  /** The open connection ended; `err`: the error the server sent as it closed it (say, a revoked key), if any. */
  onClose?(err?: QpyError): void;
}

export interface Connection<In, Out> {
  /** Send a request (an `id` is added) and wait for its reply. An error reply rejects with a QpyError. */
  request(message: DistributiveOmit<In, 'id'>, timeoutMs?: number): Promise<Out>;
  close(): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Open and authenticate a connection. Rejects with a QpyError: the code and
 * message the server refused the handshake with (UNAUTHENTICATED,
 * VERSION_MISMATCH, NOT_ALLOWED, ...), else MASTER_UNREACHABLE (no answer,
 * refused connection), UNAUTHENTICATED (the server could not prove the key)
 * or CERTIFICATE_MISMATCH (a wss:// server whose certificate is not pinned:
 * nothing was sent to it).
 */
export function connect<In, Out extends { type: string; id?: number | null }>(opts: ConnectOptions<Out>): Promise<Connection<In, Out>> {
  return new Promise((resolve, reject) => {
    const ws = opts.socket(opts.url, { maxPayload: MAX_REPLY_BYTES, timeoutMs: opts.timeoutMs, pin: opts.pin });
    const pending = new Map<number, { resolve(v: Out): void; reject(e: unknown): void; timer: NodeJS.Timeout }>();
    let nextId = 1;
    let state: 'hello' | 'welcome' | 'open' | 'closed' = 'hello';
    const clientNonce = freshNonce();
    let serverNonce = '';
    let closingError: QpyError | undefined;
    const timer = setTimeout(
      () => fail(new QpyError('MASTER_UNREACHABLE', `no answer from ${opts.url} within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );

    function fail(err: QpyError): void {
      clearTimeout(timer);
      if (state !== 'open') reject(err);
      state = 'closed';
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(err);
      }
      pending.clear();
      ws.terminate();
    }

    // A QpyError comes from the socket's own checks (a frame that breaks RFC 6455: BAD_FRAME) and is passed on as it is.
    ws.onError((err) =>
      fail(
        err instanceof CertificateMismatch
          ? certificateMismatch(opts.url, err)
          : err instanceof QpyError
            ? err
            : new QpyError('MASTER_UNREACHABLE', `cannot connect to ${opts.url}: ${err.message}`),
      ),
    );
    ws.onClose(() => {
      const wasOpen = state === 'open';
      if (state !== 'closed') fail(closingError ?? new QpyError('MASTER_UNREACHABLE', 'the connection was closed'));
      if (wasOpen) opts.onClose?.(closingError);
    });
    ws.onMessage((raw) => {
      if (state === 'hello') {
        const hello = parseFrame(raw, helloSchema, 4096);
        if (!hello.ok) return fail(new QpyError('BAD_FRAME', `unexpected greeting from ${opts.url}`));
        if (hello.value.protocol !== PROTOCOL_VERSION) {
          return fail(
            new QpyError(
              'VERSION_MISMATCH',
              `${hello.value.server} speaks protocol ${hello.value.protocol}, this client ${PROTOCOL_VERSION}`,
              'restart the daemon after an upgrade: qpy restart',
            ),
          );
        }
        serverNonce = hello.value.nonce;
        state = 'welcome';
        ws.send(
          JSON.stringify({
            type: 'auth',
            protocol: PROTOCOL_VERSION,
            role: opts.role,
            user: opts.user,
            nonce: clientNonce,
            mac: clientProof(opts.key, opts.role, serverNonce, clientNonce),
          }),
        );
        return;
      }
      if (state === 'welcome') {
        const welcome = parseFrame(raw, welcomeSchema, 4096);
        if (!welcome.ok) {
          const err = parseFrame(raw, errorReplySchema, 16384);
          return fail(err.ok ? QpyError.fromReply(err.value) : new QpyError('UNAUTHENTICATED', 'handshake failed'));
        }
        if (!sameMac(welcome.value.mac, serverProof(opts.key, serverNonce, clientNonce))) {
          return fail(
            new QpyError('UNAUTHENTICATED', `the server at ${opts.url} does not know the key`, 'another program may be using the port'),
          );
        }
        clearTimeout(timer);
        state = 'open';
        resolve({
          request(message, timeoutMs = 60_000) {
            if (state !== 'open') return Promise.reject(new QpyError('MASTER_UNREACHABLE', 'the connection is closed'));
            const id = nextId++;
            return new Promise<Out>((res, rej) => {
              const t = setTimeout(() => {
                pending.delete(id);
                rej(new QpyError('MASTER_UNREACHABLE', `no reply within ${timeoutMs} ms`));
              }, timeoutMs);
              pending.set(id, { resolve: res, reject: rej, timer: t });
              ws.send(JSON.stringify({ ...message, id }));
            });
          },
          close() {
            state = 'closed';
            ws.close();
          },
        });
        return;
      }
      const reply = parseFrame(raw, opts.replySchema, MAX_REPLY_BYTES);
      if (!reply.ok) {
        const id = reply.id;
        const p = id === null ? undefined : pending.get(id);
        if (p) {
          pending.delete(id!);
          clearTimeout(p.timer);
          p.reject(new QpyError('BAD_FRAME', `bad reply: ${reply.message}`));
        }
        return;
      }
      const msg = reply.value;
      // An error for no request: the server says why it is about to close the connection.
      if (msg.type === 'error' && msg.id === null) closingError = QpyError.fromReply(msg as never);
      const p = typeof msg.id === 'number' ? pending.get(msg.id) : undefined;
      if (!p) return opts.onPush?.(msg);
      pending.delete(msg.id as number);
      clearTimeout(p.timer);
      if (msg.type === 'error') p.reject(QpyError.fromReply(msg as never));
      else p.resolve(msg);
    });
  });
}

/** The error for a server whose certificate is not pinned (callers say more: join again, or a new code). */
function certificateMismatch(url: string, err: CertificateMismatch): QpyError {
  return new QpyError(
    'CERTIFICATE_MISMATCH',
    `the server at ${url} presented a TLS certificate with SHA-256 fingerprint ${err.presented || '(none)'}, ` +
      `not the pinned ${err.pinned.join(' or ')}: nothing was sent to it`,
    'someone may be intercepting the connection, or the administrator replaced the certificate',
  );
}
