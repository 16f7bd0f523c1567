/**
 * The CLI's WebSocket client (light-socket.ts) against a raw server that
 * breaks RFC 6455 (issue 13, finding 8): each bad frame fails the connection
 * with the right close code on the wire and one BAD_FRAME QpyError, never an
 * exception; what came before it is delivered; connect() rejects one in
 * place of the greeting. The raw server is in light-socket-helpers.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lightSocket } from '../../../src/transport/light-socket.js';
import { connect } from '../../../src/transport/client.js';
import { masterToCliSchema, type CliToMaster, type MasterToCli } from '../../../src/protocol/user-master.js';
import { QpyError } from '../../../src/errors.js';
import { MAX, serverFrame, bigLength, closeFrame, rawServer, drive } from './light-socket-helpers.js';

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
