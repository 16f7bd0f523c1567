/**
 * The CLI's WebSocket client (light-socket.ts) against a raw `net` server
 * that completes the HTTP upgrade and then sends what it likes (issue 13,
 * finding 8): good frames (fragmented, interleaved with pings, split
 * anywhere) arrive, and every close code that may be sent is echoed. Frames
 * that break RFC 6455 are in light-socket-refusals.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX, serverFrame, closeFrame, drive } from './light-socket-helpers.js';

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
