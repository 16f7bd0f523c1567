/** A FrameSocket on the `ws` library (used by daemons and tests). */
import WebSocket from 'ws';
import type { FrameSocket, SocketFactory } from './frame-socket.js';

export const wsSocket: SocketFactory = (url, { maxPayload, timeoutMs }) => {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload, handshakeTimeout: timeoutMs });
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
