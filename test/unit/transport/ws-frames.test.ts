/** The CLI client's frame reader and writer (ws-frames.ts), without sockets: splitting, limits, close payloads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, closePayload, encodeFrame, isValidCloseCode, type FrameEvent } from '../../../src/transport/ws-frames.js';

const frame = (b0: number, payload: string | Buffer): Buffer => {
  const p = Buffer.from(payload);
  assert.ok(p.length < 126);
  return Buffer.concat([Buffer.from([b0, p.length]), p]);
};

const STREAM = Buffer.concat([
  frame(0x81, 'héllo'),
  frame(0x01, 'par'),
  frame(0x89, 'ping'),
  frame(0x00, 't '),
  frame(0x80, '✓'),
  frame(0x82, Buffer.from([0, 0xff])),
  frame(0x8a, ''),
  frame(0x88, Buffer.from([0x03, 0xe8, 0x6f, 0x6b])),
  frame(0x81, 'after the close: never read'),
]);

const EXPECTED: FrameEvent[] = [
  { kind: 'message', data: Buffer.from('héllo'), binary: false },
  { kind: 'ping', payload: Buffer.from('ping') },
  { kind: 'message', data: Buffer.from('part ✓'), binary: false },
  { kind: 'message', data: Buffer.from([0, 0xff]), binary: true },
  { kind: 'pong' },
  { kind: 'close', code: 1000, reason: 'ok' },
];

test('the same events whatever the chunks: one, two at every cut, single bytes', () => {
  assert.deepEqual(new FrameReader(1 << 20).read(STREAM), EXPECTED);
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const r = new FrameReader(1 << 20);
    assert.deepEqual([...r.read(STREAM.subarray(0, cut)), ...r.read(STREAM.subarray(cut))], EXPECTED, `cut at ${cut}`);
  }
  const r = new FrameReader(1 << 20);
  const events: FrameEvent[] = [];
  for (let i = 0; i < STREAM.length; i++) events.push(...r.read(STREAM.subarray(i, i + 1)));
  assert.deepEqual(events, EXPECTED);
});

test('16- and 64-bit lengths; a message of exactly maxPayload passes, one byte more fails with 1009 at the header', () => {
  const max = 70_000;
  const big = Buffer.alloc(max, 0x61);
  const head64 = Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]); // 70,000
  const r = new FrameReader(max);
  assert.deepEqual(r.read(Buffer.concat([head64, big.subarray(0, 5)])), []);
  assert.deepEqual(r.read(big.subarray(5)), [{ kind: 'message', data: big, binary: true }]);
  const head16 = Buffer.from([0x81, 126, 0x01, 0x2c]); // 300
  assert.deepEqual(new FrameReader(max).read(Buffer.concat([head16, Buffer.alloc(300, 0x62)])), [
    { kind: 'message', data: Buffer.alloc(300, 0x62), binary: false },
  ]);
  const over = Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x71]);
  assert.deepEqual(new FrameReader(max).read(over), [{ kind: 'fail', closeCode: 1009, reason: 'a message over 70000 bytes' }]);
});

test('after a fail nothing more is read', () => {
  const r = new FrameReader(1000);
  assert.equal(r.read(frame(0xc1, 'x'))[0]?.kind, 'fail');
  assert.deepEqual(r.read(frame(0x81, 'x')), []);
});

test('close codes that may be sent', () => {
  const ok = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999];
  const bad = [0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535];
  for (const c of ok) assert.equal(isValidCloseCode(c), true, String(c));
  for (const c of bad) assert.equal(isValidCloseCode(c), false, String(c));
});

test('encodeFrame masks with the given key in the three length forms; closePayload cuts a long reason on a character boundary', () => {
  const mask = Buffer.from([1, 2, 3, 4]);
  for (const n of [0, 125, 126, 65535, 65536]) {
    const p = Buffer.alloc(n, 0x41);
    const f = encodeFrame(0x1, p, mask);
    const off = n < 126 ? 2 : n < 65536 ? 4 : 10;
    assert.equal(f[0], 0x81);
    assert.equal(f[1]! & 0x80, 0x80);
    assert.equal(f.length, off + 4 + n);
    assert.deepEqual(f.subarray(off, off + 4), mask);
    assert.ok(Buffer.from(f.subarray(off + 4).map((b, i) => b ^ mask[i & 3]!)).equals(p), `length ${n}`);
  }
  const long = closePayload(1002, '€'.repeat(60));
  assert.equal(long.readUInt16BE(0), 1002);
  assert.equal(long.length, 2 + 123);
  assert.equal(long.subarray(2).toString(), '€'.repeat(41));
  assert.deepEqual(closePayload(1000), Buffer.from([0x03, 0xe8]));
});
