/**
 * The little a client needs from a WebSocket: send text, receive text,
 * close, and hear of errors and the end. Two implementations: `ws` (full,
 * for daemons) and light-socket.ts (a small RFC 6455 client on node:net, for
 * the CLI, which then starts without loading http, https, tls and ws).
 */
import type { PinOptions } from './pin.js';

export interface FrameSocket {
  send(text: string): void;
  /** Close cleanly (a close frame). */
  close(): void;
  /** Drop the connection at once. */
  terminate(): void;
  onMessage(listener: (data: Buffer) => void): void;
  onError(listener: (err: Error) => void): void;
  onClose(listener: () => void): void;
}

/**
 * Opens a FrameSocket to `url` (ws://host:port/path, or wss:// with `pin`:
 * TLS, the server's certificate checked against the pinned fingerprints,
 * pin.ts; a mismatch is an error event with a CertificateMismatch).
 */
export type SocketFactory = (url: string, opts: { maxPayload: number; timeoutMs: number; pin?: PinOptions | undefined }) => FrameSocket;
