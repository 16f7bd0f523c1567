import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFrame } from '../../src/protocol/parse.js';
import { cliToMasterSchema } from '../../src/protocol/user-master.js';

test('a valid submit frame parses', () => {
  const r = parseFrame(JSON.stringify({ type: 'submit', id: 1, command: 'true', cwd: '/tmp', cores: 1, memGB: 5, attrs: null }), cliToMasterSchema, 1000);
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
