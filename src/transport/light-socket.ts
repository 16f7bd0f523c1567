/**
 * A small WebSocket client (RFC 6455) on node:net, for the CLI: it needs
 * one short connection, and loading `ws` with http, https and tls costs more
 * start-up time than the whole request. Text and binary messages (fragmented
 * or not), ping/pong and close are handled; no extensions (the servers turn
 * permessage-deflate off). A wss:// URL (`qpy join` to a qpy-multiuser on
 * the network) is TLS with a pinned certificate (pin.ts), checked before
 * the upgrade request goes out; node:tls is loaded only then, so no other
 * command pays for it.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { createHash, randomBytes } from 'node:crypto';
import type { FrameSocket, SocketFactory } from './frame-socket.js';
import { checkPin } from './pin.js';

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
  let fragments: Buffer[] = [];
  let fragmentBytes = 0;
  const timer = setTimeout(() => fail(new Error(`opening handshake timed out after ${timeoutMs} ms`)), timeoutMs);
  const pending: string[] = [];

  function fail(err: Error): void {
    clearTimeout(timer);
    for (const l of listeners.error) l(err);
    sock.destroy();
  }

  function frame(opcode: number, payload: Buffer): Buffer {
    const mask = randomBytes(4);
    const n = payload.length;
    const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    if (n < 126) head[1] = 0x80 | n;
    else if (n < 65536) {
      head[1] = 0x80 | 126;
      head.writeUInt16BE(n, 2);
    } else {
      head[1] = 0x80 | 127;
      head.writeBigUInt64BE(BigInt(n), 2);
    }
    const body = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) body[i] = payload[i]! ^ mask[i & 3]!;
    return Buffer.concat([head, mask, body]);
  }

  // With TLS: once its handshake is done, and only to a pinned certificate.
  sock.on(secure ? 'secureConnect' : 'connect', () => {
    const mismatch = secure ? checkPin(sock as import('node:tls').TLSSocket, pin!) : null;
    if (mismatch) return fail(mismatch);
    sock.write(`GET ${u.pathname || '/'} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
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
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      if (!/^HTTP\/1\.1 101 /.test(head) || !new RegExp(`\\r\\nsec-websocket-accept: *${accept.replace(/[+/=]/g, '\\$&')}\\r?$`, 'im').test(head + '\r')) {
        return fail(new Error(`unexpected answer to the WebSocket upgrade: ${head.split('\r\n')[0]}`));
      }
      open = true;
      clearTimeout(timer);
      for (const t of pending.splice(0)) sock.write(frame(0x1, Buffer.from(t)));
    }
    parseFrames();
  });

  function parseFrames(): void {
    while (buf.length >= 2) {
      const b0 = buf[0]!;
      const b1 = buf[1]!;
      if (b1 & 0x80) return fail(new Error('server frames must not be masked'));
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        const big = buf.readBigUInt64BE(2);
        if (big > BigInt(maxPayload)) return fail(new Error('message too big'));
        len = Number(big);
        off = 10;
      }
      if (fragmentBytes + len > maxPayload) return fail(new Error('message too big'));
      if (buf.length < off + len) return;
      const payload = buf.subarray(off, off + len);
      buf = buf.subarray(off + len);
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === 0x8) {
        if (!closed) sock.end(frame(0x8, payload.subarray(0, 2)));
        return;
      }
      if (opcode === 0x9) {
        sock.write(frame(0xa, Buffer.from(payload)));
        continue;
      }
      if (opcode === 0xa) continue;
      if (opcode === 0x1 || opcode === 0x2 || opcode === 0x0) {
        fragments.push(Buffer.from(payload));
        fragmentBytes += len;
        if (fin) {
          const msg = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
          fragments = [];
          fragmentBytes = 0;
          for (const l of listeners.message) l(msg);
        }
        continue;
      }
      return fail(new Error(`unknown WebSocket opcode ${opcode}`));
    }
  }

  const s: FrameSocket = {
    send(text) {
      if (open) sock.write(frame(0x1, Buffer.from(text)));
      else pending.push(text);
    },
    close() {
      if (open && !sock.destroyed) sock.end(frame(0x8, Buffer.from([0x03, 0xe8])));
      else sock.destroy();
    },
    terminate: () => sock.destroy(),
    onMessage: (l) => void listeners.message.push(l),
    onError: (l) => void listeners.error.push(l),
    onClose: (l) => void listeners.close.push(l),
  };
  return s;
};
