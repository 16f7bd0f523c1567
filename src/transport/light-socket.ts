/**
 * A small WebSocket client (RFC 6455) on node:net, for the CLI: it needs
 * one short connection, and loading `ws` with http, https and tls costs more
 * start-up time than the whole request. Text and binary messages (fragmented
 * or not), ping/pong and close are handled; no extensions (the servers turn
 * permessage-deflate off). A wss:// URL (`qpy join` to a qpy-multiuser on
 * the network) is TLS with a pinned certificate (pin.ts), checked before
 * the upgrade request goes out; node:tls is loaded only then, so no other
 * command pays for it. Frames are read and checked by ws-frames.ts: a frame
 * that breaks the RFC fails the connection with a close code (1002, 1007,
 * 1009) and a BAD_FRAME QpyError to the error listeners; nothing is thrown.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { createHash, randomBytes } from 'node:crypto';
import type { FrameSocket, SocketFactory } from './frame-socket.js';
import { checkPin } from './pin.js';
import { QpyError } from '../errors.js';
import { FrameReader, OP_CLOSE, OP_PONG, OP_TEXT, closePayload, encodeFrame, type FrameEvent } from './ws-frames.js';

/** node:tls, loaded on first use (createRequire, not import: the bundle would load it at start). */
const loadTls = (): typeof import('node:tls') => createRequire('/')('node:tls') as typeof import('node:tls');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const lightSocket: SocketFactory = (url, { maxPayload, timeoutMs, pin }) => {
  const u = new URL(url);
  const secure = u.protocol === 'wss:';
  if (u.protocol !== 'ws:' && !secure) throw new Error(`only ws:// and wss:// URLs are supported: ${url}`);
  if (secure && pin === undefined) throw new Error(`a wss:// URL needs a pinned certificate: ${url}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const sock: Socket = secure
    ? loadTls().connect({ host, port: Number(u.port || 443), rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) })
    : netConnect({ host, port: Number(u.port || 80) });
  sock.setNoDelay(true);
  const key = randomBytes(16).toString('base64');
  const listeners = { message: [] as ((d: Buffer) => void)[], error: [] as ((e: Error) => void)[], close: [] as (() => void)[] };
  let open = false;
  let closed = false;
  let buf: Buffer = Buffer.alloc(0);
  const reader = new FrameReader(maxPayload);
  let closeSent = false;
  let failed = false;
  const timer = setTimeout(() => fail(new Error(`opening handshake timed out after ${timeoutMs} ms`)), timeoutMs);
  const pending: string[] = [];

  function fail(err: Error): void {
    clearTimeout(timer);
    if (failed) return;
    failed = true;
    for (const l of listeners.error) l(err);
    sock.destroy();
  }

  const frame = (opcode: number, payload: Buffer): Buffer => encodeFrame(opcode, payload);

  /** Close with `code` (once), then end our side; the server closes its own. */
  function sendClose(payload: Buffer): void {
    if (closeSent || sock.destroyed) return;
    closeSent = true;
    sock.end(frame(OP_CLOSE, payload));
  }

  // With TLS: once its handshake is done, and only to a pinned certificate.
  sock.on(secure ? 'secureConnect' : 'connect', () => {
    const mismatch = secure ? checkPin(sock as import('node:tls').TLSSocket, pin!) : null;
    if (mismatch) return fail(mismatch);
    sock.write(
      `GET ${u.pathname || '/'}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
  sock.on('error', (err) => fail(err));
  sock.on('close', () => {
    clearTimeout(timer);
    if (closed) return;
    closed = true;
    for (const l of listeners.close) l();
  });
  sock.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    if (!open) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      buf = buf.subarray(end + 4);
      const accept = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      // No extension or subprotocol is asked for, so none may be answered (§4.1): RSV bits would then mean nothing.
      if (/\r\nsec-websocket-(extensions|protocol):/i.test(head))
        return fail(
          new QpyError(
            'BAD_FRAME',
            `the server at ${url} answered the WebSocket upgrade with an extension or subprotocol that was not asked for`,
          ),
        );
      if (
        !/^HTTP\/1\.1 101 /.test(head) ||
        !new RegExp(`\\r\\nsec-websocket-accept: *${accept.replace(/[+/=]/g, '\\$&')}\\r?$`, 'im').test(`${head}\r`)
      ) {
        return fail(new Error(`unexpected answer to the WebSocket upgrade: ${head.split('\r\n')[0]}`));
      }
      open = true;
      clearTimeout(timer);
      for (const t of pending.splice(0)) sock.write(frame(OP_TEXT, Buffer.from(t)));
    }
    const rest = buf;
    buf = Buffer.alloc(0);
    for (const ev of reader.read(rest)) {
      if (failed || sock.destroyed) return;
      onFrame(ev);
    }
  });

  function onFrame(ev: FrameEvent): void {
    switch (ev.kind) {
      case 'message':
        for (const l of listeners.message) l(ev.data);
        return;
      case 'ping':
        if (!closeSent && !sock.destroyed) sock.write(frame(OP_PONG, ev.payload));
        return;
      case 'pong':
        return;
      case 'close':
        sendClose(ev.code === null ? Buffer.alloc(0) : closePayload(ev.code));
        return;
      case 'fail':
        // Fail the connection (§7.1.7): our close frame says why, and the caller hears it as a BAD_FRAME error.
        sendClose(closePayload(ev.closeCode, ev.reason));
        fail(new QpyError('BAD_FRAME', `the server at ${url} broke the WebSocket protocol: ${ev.reason} (closed with ${ev.closeCode})`));
        return;
    }
  }

  const s: FrameSocket = {
    send(text) {
      if (!open) pending.push(text);
      else if (!closeSent && !sock.destroyed) sock.write(frame(OP_TEXT, Buffer.from(text)));
    },
    close() {
      if (open && !sock.destroyed) sendClose(closePayload(1000));
      else sock.destroy();
      // Our close frame is written; the server's own close and FIN need not keep the process alive (a CLI
      // command would otherwise wait for them to exit: 5–15 ms on a busy machine). 'close' still fires if it lives on.
      sock.unref();
    },
    terminate: () => sock.destroy(),
    onMessage: (l) => void listeners.message.push(l),
    onError: (l) => void listeners.error.push(l),
    onClose: (l) => void listeners.close.push(l),
  };
  return s;
};
