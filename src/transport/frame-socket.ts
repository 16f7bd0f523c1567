/**
 * The little a client needs from a WebSocket: send text, receive text,
 * close, and hear of errors and the end. Two implementations: `ws` (full,
 * for daemons) and light-socket.ts (a small RFC 6455 client on node:net, for
 * the CLI, which then starts without loading http, https, tls and ws).
 */
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

/** Opens a FrameSocket to `url` (ws://host:port/path). */
export type SocketFactory = (url: string, opts: { maxPayload: number; timeoutMs: number }) => FrameSocket;
