/**
 * The CLI's WebSocket client (light-socket.ts) against a raw `net` server that
 * completes the HTTP upgrade and then sends what it likes (issue 13, finding
 * 8): each frame that breaks RFC 6455 fails the connection with the right
 * close code on the wire and one BAD_FRAME QpyError, never an exception;
 * good frames (fragmented, interleaved with pings, split anywhere) arrive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { lightSocket } from '../../../src/transport/light-socket.js';
import { connect } from '../../../src/transport/client.js';
import { masterToCliSchema, type CliToMaster, type MasterToCli } from '../../../src/protocol/user-master.js';
import { QpyError } from '../../../src/errors.js';
import { waitFor } from '../../helpers/wait.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX = 1 << 20;

/** A server frame, unmasked: FIN and opcode in `b0`, then the length in the shortest form. */
function serverFrame(b0: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
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
const bigLength = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};
const closeFrame = (code: number, reason: Buffer | string = ''): Buffer => {
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

interface Session {
  url: string;
  /** The client's request line and headers. */
  request(): string;
  /** Everything the client sent after the upgrade, once it has closed its side. */
  sent(): Promise<{ opcode: number; payload: Buffer }[]>;
  server: Server;
}

/** A raw server for one connection: answers the upgrade (plus `extraHeaders`), then hands the socket to `after`. */
async function rawServer(after: (sock: Socket) => void, extraHeaders = ''): Promise<Session> {
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
async function drive(after: (sock: Socket) => void, opts: { extraHeaders?: string; path?: string; send?: string[] } = {}) {
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

/** The server sends `bytes` after the upgrade (and keeps its side open): the client must fail with `code`. */
async function refused(bytes: Buffer | Buffer[], code: number, reason: RegExp): Promise<void> {
  const r = await drive((sock) => {
    for (const b of Array.isArray(bytes) ? bytes : [bytes]) sock.write(b);
  });
  assert.equal(r.errors.length, 1, `one error, not ${r.errors.map((e) => e.message).join('; ')}`);
  const err = r.errors[0]!;
  assert.ok(err instanceof QpyError, `a QpyError, not ${err.stack}`);
  assert.equal(err.code, 'BAD_FRAME');
  assert.match(err.message, reason);
  assert.match(
    err.message,
    new RegExp(`^the server at ws://127\\.0\\.0\\.1:\\d+/ broke the WebSocket protocol: .* \\(closed with ${code}\\)$`),
  );
  assert.equal(r.messages.length, 0, 'nothing delivered');
  const close = r.sent.at(-1);
  assert.equal(close?.opcode, 0x8, 'the client sent a close frame');
  assert.equal(
    close.payload.readUInt16BE(0),
    code,
    `close code ${close.payload.readUInt16BE(0)} (${close.payload.subarray(2).toString()})`,
  );
  assert.ok(close.payload.length <= 125);
}

const BAD: [string, Buffer | Buffer[], number, RegExp][] = [
  ['RSV1 set', serverFrame(0xc1, 'hi'), 1002, /RSV bits set \(4\) with no extension agreed/],
  ['RSV2 set', serverFrame(0xa1, 'hi'), 1002, /RSV bits set \(2\)/],
  ['RSV3 set on a ping', serverFrame(0x99), 1002, /RSV bits set \(1\)/],
  ['opcode 0x3', serverFrame(0x83), 1002, /unknown opcode 0x3/],
  ['opcode 0xb', serverFrame(0x8b), 1002, /unknown opcode 0xb/],
  ['a masked frame', Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x69 ^ 1, 0x69 ^ 2]), 1002, /a masked frame from the server/],
  ['a ping of 126 bytes', serverFrame(0x89, Buffer.alloc(126, 0x61)), 1002, /a control frame of over 125 bytes/],
  ['a close of 126 bytes', serverFrame(0x88, Buffer.alloc(126, 0x61)), 1002, /a control frame of over 125 bytes/],
  ['a pong with a 64-bit length', Buffer.concat([Buffer.from([0x8a, 127]), bigLength(3n)]), 1002, /a control frame of over 65535 bytes/],
  ['a fragmented ping', serverFrame(0x09, 'x'), 1002, /a fragmented control frame/],
  ['a continuation with no start', serverFrame(0x80, 'hi'), 1002, /a continuation frame with no message to continue/],
  [
    'a text frame inside a fragmented message',
    [serverFrame(0x01, 'a'), serverFrame(0x81, 'b')],
    1002,
    /a new message inside a fragmented one/,
  ],
  [
    'a binary frame inside a fragmented message',
    [serverFrame(0x02, 'a'), serverFrame(0x02, 'b')],
    1002,
    /a new message inside a fragmented one/,
  ],
  ['invalid UTF-8 in a text message', serverFrame(0x81, Buffer.from([0xc3, 0x28])), 1007, /invalid UTF-8 in a text message/],
  [
    'UTF-8 cut at the end of a fragmented text message',
    [serverFrame(0x01, 'ok '), serverFrame(0x80, Buffer.from([0xe2, 0x82]))],
    1007,
    /invalid UTF-8 in a text message/,
  ],
  ['an overlong UTF-8 encoding', serverFrame(0x81, Buffer.from([0xc0, 0xaf])), 1007, /invalid UTF-8/],
  ['a UTF-16 surrogate in UTF-8', serverFrame(0x81, Buffer.from([0xed, 0xa0, 0x80])), 1007, /invalid UTF-8/],
  ['invalid UTF-8 in a close reason', closeFrame(1000, Buffer.from([0xff])), 1007, /invalid UTF-8 in a close reason/],
  ['a close frame of 1 byte', serverFrame(0x88, Buffer.from([0x03])), 1002, /a close frame of 1 byte/],
  ...[0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535].map((c): [string, Buffer, number, RegExp] => [
    `close code ${c}`,
    closeFrame(c),
    1002,
    new RegExp(`invalid close code ${c}$|invalid close code ${c} `),
  ]),
  [
    'a 64-bit length with its top bit set',
    Buffer.concat([Buffer.from([0x82, 127]), bigLength(1n << 63n)]),
    1002,
    /a payload length with its top bit set/,
  ],
  [
    'a message over maxPayload, said by its header',
    Buffer.concat([Buffer.from([0x81, 127]), bigLength(BigInt(MAX + 1))]),
    1009,
    /a message over 1048576 bytes/,
  ],
  [
    'a message over maxPayload in fragments',
    [serverFrame(0x01, Buffer.alloc(MAX / 2, 0x61)), serverFrame(0x00, Buffer.alloc(MAX / 2, 0x61)), serverFrame(0x80, 'x')],
    1009,
    /a message over 1048576 bytes/,
  ],
];

for (const [name, bytes, code, reason] of BAD) {
  test(`light-socket refuses ${name} with close code ${code}`, { timeout: 15_000 }, () => refused(bytes, code, reason));
}

test('a bad frame after messages: what came before is delivered, the rest is not read', { timeout: 15_000 }, async () => {
  const r = await drive((sock) =>
    sock.write(Buffer.concat([serverFrame(0x81, 'one'), serverFrame(0xc1, 'two'), serverFrame(0x81, 'three')])),
  );
  assert.deepEqual(r.messages.map(String), ['one']);
  assert.equal(r.errors.length, 1);
  assert.equal(r.sent.at(-1)?.payload.readUInt16BE(0), 1002);
});

test('an upgrade answered with an extension that was not asked for is refused', { timeout: 15_000 }, async () => {
  const r = await drive(() => undefined, { extraHeaders: 'Sec-WebSocket-Extensions: permessage-deflate\r\n' });
  assert.equal(r.errors.length, 1);
  assert.ok(r.errors[0] instanceof QpyError && r.errors[0].code === 'BAD_FRAME', r.errors[0]?.message);
  assert.match(r.errors[0]!.message, /extension or subprotocol that was not asked for/);
});

test('the request line keeps the path and query string', { timeout: 15_000 }, async () => {
  const r = await drive((sock) => sock.end(closeFrame(1000)), { path: '/join/x?code=abc&v=2' });
  assert.match(r.request, /^GET \/join\/x\?code=abc&v=2 HTTP\/1\.1\r\n/);
});

test('fragments with pings between them make one message, each ping gets its pong, and a UTF-8 character may span fragments', {
  timeout: 15_000,
}, async () => {
  const euro = Buffer.from('€'); // 3 bytes, split across two fragments
  const r = await drive((sock) => {
    sock.write(
      Buffer.concat([
        serverFrame(0x01, Buffer.concat([Buffer.from('price '), euro.subarray(0, 1)])),
        serverFrame(0x89, 'p1'),
        serverFrame(0x00, euro.subarray(1)),
        serverFrame(0x8a, 'unasked pong'),
        serverFrame(0x89, ''),
        serverFrame(0x80, '5'),
      ]),
    );
    sock.write(Buffer.concat([serverFrame(0x82, Buffer.from([0xff, 0xfe])), closeFrame(3000, 'bye ✓')]));
  });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.messages.map((m) => m.toString('utf8')),
    ['price €5', Buffer.from([0xff, 0xfe]).toString('utf8')],
  );
  assert.deepEqual(r.messages[1], Buffer.from([0xff, 0xfe]), 'a binary message need not be UTF-8');
  assert.deepEqual(
    r.sent.map((f) => [f.opcode, f.payload.toString()]),
    [
      [0xa, 'p1'],
      [0xa, ''],
      [0x8, r.sent[2]!.payload.toString()],
    ],
  );
  assert.equal(r.sent[2]!.payload.readUInt16BE(0), 3000, 'the close code is echoed');
});

test('every close code that may be sent is accepted and echoed, with or without a reason', { timeout: 30_000 }, async () => {
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) {
    const r = await drive((sock) => sock.write(closeFrame(code, code % 2 ? 'why: ünïcode' : '')));
    assert.deepEqual(r.errors, [], `close code ${code}`);
    assert.equal(r.sent.at(-1)?.payload.readUInt16BE(0), code);
  }
  const empty = await drive((sock) => sock.write(serverFrame(0x88)));
  assert.deepEqual(empty.errors, []);
  assert.deepEqual(empty.sent.at(-1), { opcode: 0x8, payload: Buffer.alloc(0) });
});

test('frames split into single bytes arrive whole; a big message in many chunks arrives intact', { timeout: 60_000 }, async () => {
  const stream = Buffer.concat([
    serverFrame(0x81, 'x'.repeat(300)),
    serverFrame(0x01, 'ab'),
    serverFrame(0x89, 'pp'),
    serverFrame(0x80, 'c'),
    closeFrame(1000),
  ]);
  const r = await drive((sock) => {
    sock.setNoDelay(true);
    let i = 0;
    const next = (): void => void (i < stream.length && sock.write(stream.subarray(i, ++i), next));
    next();
  });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.messages.map(String), ['x'.repeat(300), 'abc']);

  const big = Buffer.alloc(MAX - 10, 0x7a);
  const r2 = await drive((sock) => {
    const f = serverFrame(0x81, big);
    for (let off = 0; off < f.length; off += 1000) sock.write(f.subarray(off, off + 1000));
    sock.write(closeFrame(1000));
  });
  assert.deepEqual(r2.errors, []);
  assert.equal(r2.messages.length, 1);
  assert.ok(r2.messages[0]!.equals(big));
});

test('connect() rejects a bad frame in place of the greeting with BAD_FRAME', { timeout: 15_000 }, async () => {
  const s = await rawServer((sock) => sock.write(serverFrame(0x81, Buffer.from([0xc3, 0x28]))));
  try {
    await assert.rejects(
      connect<CliToMaster, MasterToCli>({
        url: s.url,
        socket: lightSocket,
        key: Buffer.alloc(32),
        role: 'user',
        user: 'u',
        replySchema: masterToCliSchema,
        timeoutMs: 5000,
      }),
      (err: unknown) =>
        err instanceof QpyError && err.code === 'BAD_FRAME' && /invalid UTF-8 in a text message \(closed with 1007\)$/.test(err.message),
    );
    assert.equal((await s.sent()).at(-1)?.payload.readUInt16BE(0), 1007);
  } finally {
    s.server.close();
  }
});
