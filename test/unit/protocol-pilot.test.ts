/**
 * The pilot link's messages (src/protocol/pilot.ts): valid frames parse,
 * and every bound is kept (sizes, channel and ref numbers, the agent's
 * shell, unknown fields and types); the pilot file's shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFrame } from '../../src/protocol/parse.js';
import { MAX_AGENT_TEXT, MAX_RANGE_BYTES, masterToPilotSchema, pilotFileSchema, pilotToMasterSchema } from '../../src/protocol/pilot.js';
import { MAX_REQUEST_BYTES } from '../../src/protocol/version.js';

const up = (frame: object) => parseFrame(JSON.stringify(frame), pilotToMasterSchema, MAX_REQUEST_BYTES);
const down = (frame: object) => parseFrame(JSON.stringify(frame), masterToPilotSchema, MAX_REQUEST_BYTES);

test('pilot → master: valid requests parse', () => {
  for (const frame of [
    { type: 'pilotHello', id: 1, pool: 'gpu', jobId: '1234', host: 'c042' },
    { type: 'agentOutput', id: 2, channel: 1, stdout: 'R bash 1\n' },
    { type: 'agentOutput', id: 3, channel: 1, stderr: 'oops' },
    { type: 'agentGone', id: 4, channel: 1, why: 'the node agent exited (0)' },
    { type: 'rangeData', id: 5, ref: 9, data: Buffer.from('hello').toString('base64') },
    { type: 'rangeData', id: 6, ref: 9, error: 'EISDIR' },
  ]) {
    const r = up(frame);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value, frame);
  }
});

test('pilot → master: bounds are kept', () => {
  const bad: [object, RegExp][] = [
    [{ type: 'pilotHello', id: 1, pool: '', jobId: '1', host: 'h' }, /\$\.pool/],
    [{ type: 'pilotHello', id: 1, pool: 'p'.repeat(65), jobId: '1', host: 'h' }, /\$\.pool/],
    [{ type: 'pilotHello', id: 1, pool: 'p', jobId: '1'.repeat(65), host: 'h' }, /\$\.jobId/],
    [{ type: 'pilotHello', id: 1, pool: 'p', jobId: '1', host: 'h', extra: 1 }, /\$\.extra: expected no such field/],
    [{ type: 'agentOutput', id: 1, channel: 0, stdout: 'x' }, /\$\.channel/],
    [{ type: 'agentOutput', id: 1, channel: 1.5 }, /\$\.channel/],
    [{ type: 'agentOutput', id: 1, channel: 1, stdout: 'x'.repeat(MAX_AGENT_TEXT + 1) }, /\$\.stdout/],
    [{ type: 'agentGone', id: 1, channel: 1, why: 'x'.repeat(4097) }, /\$\.why/],
    [{ type: 'rangeData', id: 1, ref: -1, data: '' }, /\$\.ref/],
    [{ type: 'rangeData', id: 1, ref: 1, data: 'x'.repeat(Math.ceil(MAX_RANGE_BYTES / 3) * 4 + 1) }, /\$\.data/],
  ];
  for (const [frame, message] of bad) {
    const r = up(frame);
    assert.ok(!r.ok, JSON.stringify(frame).slice(0, 100));
    assert.equal(r.code, 'BAD_REQUEST');
    assert.match(r.message, message);
  }
  const unknown = up({ type: 'agentOpen', id: 1, channel: 1, shell: 'auto' });
  assert.ok(!unknown.ok && unknown.code === 'BAD_FRAME', 'a pilot may not send a push of the master');
  // The largest rangeData fits a request frame.
  const biggest = JSON.stringify({ type: 'rangeData', id: 1, ref: 1, data: Buffer.alloc(MAX_RANGE_BYTES).toString('base64') });
  assert.ok(Buffer.byteLength(biggest) < MAX_REQUEST_BYTES);
  assert.ok(up(JSON.parse(biggest) as object).ok);
});

test('master → pilot: replies and pushes parse, bounds are kept', () => {
  for (const frame of [
    { type: 'pilotWelcome', id: 1 },
    { type: 'noted', id: 2 },
    { type: 'agentOpen', channel: 3, shell: 'auto' },
    { type: 'agentOpen', channel: 3, shell: 'sh' },
    { type: 'agentInput', channel: 3, text: 'L 1 /run\n' },
    { type: 'agentEnd', channel: 3 },
    { type: 'readRange', ref: 4, path: '/home/a/job_1.out', offset: 0, max: MAX_RANGE_BYTES },
    { type: 'pilotEnd' },
    { type: 'error', id: null, code: 'UNAUTHENTICATED', message: 'another connection claimed this pilot' },
  ]) {
    const r = down(frame);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value, frame);
  }
  for (const frame of [
    { type: 'agentOpen', channel: 3, shell: 'zsh' },
    { type: 'agentInput', channel: 3, text: 'x'.repeat(MAX_AGENT_TEXT + 1) },
    { type: 'readRange', ref: 4, path: '', offset: 0, max: 1 },
    { type: 'readRange', ref: 4, path: '/x', offset: -1, max: 1 },
    { type: 'readRange', ref: 4, path: '/x', offset: 0, max: MAX_RANGE_BYTES + 1 },
    { type: 'pilotEnd', now: true },
  ])
    assert.ok(!down(frame).ok, JSON.stringify(frame).slice(0, 100));
});

test('the pilot file: its fields and their bounds', () => {
  const file = { version: 1, host: 'login1', port: 40123, fingerprint: `${'AB:'.repeat(31)}AB`, pool: 'gpu', secret: 'ab'.repeat(32) };
  assert.deepEqual(pilotFileSchema(file, '$'), file);
  assert.throws(() => pilotFileSchema({ ...file, version: 2 }, '$'), /\$\.version/);
  assert.throws(() => pilotFileSchema({ ...file, port: 65536 }, '$'), /\$\.port/);
  assert.throws(() => pilotFileSchema({ ...file, secret: undefined }, '$'), /\$\.secret/);
});
