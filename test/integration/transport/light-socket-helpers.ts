/**
 * Shared setup of the light-socket tests (light-socket.test.ts,
 * light-socket-refusals.test.ts): a raw `net` server that completes the
 * HTTP upgrade and then sends whatever bytes a test gives it, server frames
 * and close frames built by hand, the client's frames read back unmasked,
 * and a driver that records what the client heard until its socket closed.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { lightSocket } from '../../../src/transport/light-socket.js';
import { waitFor } from '../../helpers/wait.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const MAX = 1 << 20;

/** A server frame, unmasked: FIN and opcode in `b0`, then the length in the shortest form. */
export function serverFrame(b0: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const n = p.length;
  const head =
    n < 126
      ? Buffer.from([b0, n])
      : n < 65536
        ? Buffer.from([b0, 126, n >> 8, n & 0xff])
        : Buffer.concat([Buffer.from([b0, 127]), bigLength(BigInt(n))]);
  return Buffer.concat([head, p]);
}
export const bigLength = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};
export const closeFrame = (code: number, reason: Buffer | string = ''): Buffer => {
  const c = Buffer.alloc(2);
  c.writeUInt16BE(code);
  return serverFrame(0x88, Buffer.concat([c, typeof reason === 'string' ? Buffer.from(reason) : reason]));
};

/** The frames the client sent, unmasked, as the server read them. */
function clientFrames(data: Buffer): { opcode: number; payload: Buffer }[] {
  const out: { opcode: number; payload: Buffer }[] = [];
  let off = 0;
  while (off + 2 <= data.length) {
    assert.ok(data[off + 1]! & 0x80, 'client frames are masked');
    let len = data[off + 1]! & 0x7f;
    let p = off + 2;
    if (len === 126) {
      len = data.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      len = Number(data.readBigUInt64BE(p));
      p += 8;
    }
    const mask = data.subarray(p, p + 4);
    const payload = Buffer.from(data.subarray(p + 4, p + 4 + len)).map((b, i) => b ^ mask[i & 3]!);
    out.push({ opcode: data[off]! & 0x0f, payload: Buffer.from(payload) });
    off = p + 4 + len;
  }
  return out;
}

export interface Session {
  url: string;
  /** The client's request line and headers. */
  request(): string;
  /** Everything the client sent after the upgrade, once it has closed its side. */
  sent(): Promise<{ opcode: number; payload: Buffer }[]>;
  server: Server;
}

/** A raw server for one connection: answers the upgrade (plus `extraHeaders`), then hands the socket to `after`. */
export async function rawServer(after: (sock: Socket) => void, extraHeaders = ''): Promise<Session> {
  let request = '';
  let resolveSent: (b: Buffer) => void = () => undefined;
  const sentP = new Promise<Buffer>((r) => (resolveSent = r));
  const server = createServer((sock) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let tail: Buffer[] = [];
    sock.on('data', (d: Buffer) => {
      if (upgraded) return void tail.push(d);
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      request = buf.subarray(0, end).toString('latin1');
      tail = [buf.subarray(end + 4)];
      upgraded = true;
      const key = /^sec-websocket-key: *(\S+)/im.exec(request)![1]!;
      const accept = createHash('sha1')
        .update(key + GUID)
        .digest('base64');
      sock.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extraHeaders}\r\n`,
      );
      after(sock);
    });
    sock.on('error', () => undefined);
    sock.on('close', () => resolveSent(Buffer.concat(tail)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `ws://127.0.0.1:${port}/`, request: () => request, sent: async () => clientFrames(await sentP), server };
}

/** Open the client, let the server act, and record what the client heard until its socket closed. */
export async function drive(after: (sock: Socket) => void, opts: { extraHeaders?: string; path?: string; send?: string[] } = {}) {
  const s = await rawServer(after, opts.extraHeaders);
  const heard = { errors: [] as Error[], messages: [] as Buffer[], closed: false };
  try {
    const ws = lightSocket(s.url.replace(/\/$/, opts.path ?? '/'), { maxPayload: MAX, timeoutMs: 5000 });
    ws.onError((e) => heard.errors.push(e));
    ws.onMessage((m) => heard.messages.push(m));
    ws.onClose(() => (heard.closed = true));
    for (const t of opts.send ?? []) ws.send(t);
    await waitFor(() => heard.closed, { what: 'the client socket closed' });
    return { ...heard, request: s.request(), sent: await s.sent() };
  } finally {
    s.server.close();
  }
}
