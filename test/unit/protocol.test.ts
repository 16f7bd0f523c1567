import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFrame } from '../../src/protocol/parse.js';
import { cliToMasterSchema } from '../../src/protocol/user-master.js';
import { allocatorToMasterSchema, masterToAllocatorSchema } from '../../src/protocol/master-allocator.js';

test('a valid submit frame parses', () => {
  const r = parseFrame(
    JSON.stringify({ type: 'submit', id: 1, command: 'true', cwd: '/tmp', cores: 1, memGB: 5, attrs: null }),
    cliToMasterSchema,
    1000,
  );
  assert.equal(r.ok, true);
});

test('garbage, unknown types, extra fields and oversize frames are coded errors', () => {
  const cases: [string, string][] = [
    ['not json', 'BAD_FRAME'],
    ['{"type":"explode","id":3}', 'BAD_FRAME'],
    ['{"type":"status","id":3,"extra":1}', 'BAD_REQUEST'],
    ['{"type":"submit","id":4,"command":5}', 'BAD_REQUEST'],
    ['[1,2,3]', 'BAD_FRAME'],
    ['x'.repeat(2000), 'BAD_FRAME'],
  ];
  for (const [raw, code] of cases) {
    const r = parseFrame(raw, cliToMasterSchema, 1000);
    assert.equal(r.ok, false, raw);
    if (!r.ok) assert.equal(r.code, code, raw);
  }
  const r = parseFrame('{"type":"status","id":7,"extra":1}', cliToMasterSchema, 1000);
  assert.ok(!r.ok && r.id === 7);
});

test('master → allocator: every number a master reports is bounded, and a frame breaking a bound is a coded error naming the field', () => {
  const slot = { jobId: 1, node: 'n1', cores: 1, memGB: 1 };
  const register = (over: object, top: object = {}) =>
    JSON.stringify({ type: 'register', id: 9, user: 'alice', running: [{ ...slot, ...over }], queueSize: 0, ...top });
  const ok = parseFrame(
    register({ cores: 1_000_000, memGB: 1_000_000, jobId: Number.MAX_SAFE_INTEGER }, { queueSize: 1_000_000_000 }),
    masterToAllocatorSchema,
    1 << 20,
  );
  assert.equal(ok.ok, true, 'the bounds themselves are fine (terabyte-scale memory too)');
  const cases: [string, string][] = [
    [register({ cores: 2 ** 53 - 1 }), '$.running[0].cores: expected an integer from 1 to 1000000'],
    [register({ cores: 0 }), '$.running[0].cores: expected an integer from 1 to 1000000'],
    [register({ memGB: 1_000_001 }), '$.running[0].memGB: expected a number from 0 to 1000000'],
    [register({ memGB: -0.5 }), '$.running[0].memGB: expected a number from 0 to 1000000'],
    [register({ jobId: -1 }), '$.running[0].jobId: expected an integer from 0 to 9007199254740991'],
    [register({ node: '' }), '$.running[0].node: expected a non-empty string of at most 256 characters'],
    [register({}, { queueSize: 1e10 }), '$.queueSize: expected an integer from 0 to 1000000000'],
    [
      JSON.stringify({ type: 'request', id: 9, user: 'a', jobId: 1, demand: { cores: 1e7, memGB: 1, attrs: null }, queueSize: 1 }),
      '$.demand.cores: expected an integer from 1 to 1000000',
    ],
    [
      JSON.stringify({ type: 'release', id: 9, user: 'a', jobId: 1.5, queueSize: 1 }),
      '$.jobId: expected an integer from 0 to 9007199254740991',
    ],
    [
      JSON.stringify({ type: 'release', id: 9, user: 'a', jobId: 1, queueSize: -1 }),
      '$.queueSize: expected an integer from 0 to 1000000000',
    ],
    [
      JSON.stringify({ type: 'nodeLink', id: 9, user: 'a', node: '', reachable: true }),
      '$.node: expected a non-empty string of at most 256 characters',
    ],
  ];
  for (const [raw, message] of cases) {
    const r = parseFrame(raw, masterToAllocatorSchema, 1 << 20);
    assert.deepEqual(r, { ok: false, code: 'BAD_REQUEST', message: `invalid message: ${message}`, id: 9 }, raw);
  }
});

test('allocator → master: registered carries the refused slots', () => {
  const r = parseFrame(
    JSON.stringify({ type: 'registered', id: 1, refused: [{ jobId: 3, reason: 'job 3 holds no slot granted to this user' }] }),
    allocatorToMasterSchema,
    1 << 20,
  );
  assert.equal(r.ok, true);
  assert.equal(parseFrame('{"type":"registered","id":1}', allocatorToMasterSchema, 1 << 20).ok, false);
});
