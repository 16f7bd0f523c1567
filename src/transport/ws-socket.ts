/**
 * A FrameSocket on the `ws` library (used by daemons and tests). A wss://
 * URL needs `pin`: the TLS connection is made here without a CA
 * (rejectUnauthorized false: the certificate is self-signed) and kept only
 * if the server's certificate is pinned (pin.ts), checked as the TLS
 * handshake ends, before any WebSocket frame is read or sent.
 */
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import WebSocket from 'ws';
import type { FrameSocket, SocketFactory } from './frame-socket.js';
import { checkPin, type PinOptions } from './pin.js';

/** ws's `createConnection` for a pinned TLS connection (also the fuzzer's raw links). */
export function pinnedTls(pin: PinOptions) {
  return (options: ConnectionOptions) => {
    const socket = tlsConnect({ ...options, rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      const mismatch = checkPin(socket, pin);
      if (mismatch) socket.destroy(mismatch);
    });
    return socket;
  };
}

export const wsSocket: SocketFactory = (url, { maxPayload, timeoutMs, pin }) => {
  const secure = url.startsWith('wss:');
  if (secure && pin === undefined) throw new Error(`a wss:// URL needs a pinned certificate: ${url}`);
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    maxPayload,
    handshakeTimeout: timeoutMs,
    ...(secure ? { createConnection: pinnedTls(pin!) as never } : {}),
  });
  const s: FrameSocket = {
    send: (text) => ws.send(text),
    close: () => ws.close(),
    terminate: () => ws.terminate(),
    onMessage: (l) => void ws.on('message', (data) => l(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer))),
    onError: (l) => void ws.on('error', l),
    onClose: (l) => void ws.on('close', l),
  };
  return s;
};
