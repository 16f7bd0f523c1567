/**
 * `--since`/`--until` words (src/protocol/time-spec.ts): durations before
 * now, `now`, local and UTC dates, and one clear sentence for anything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimeSpec, type TimeContext } from '../../src/protocol/time-spec.js';

const NOW = Date.UTC(2025, 2, 10, 12, 0, 0);
const utc: TimeContext = { now: NOW, offsetMinutes: () => 0 };
/** A zone two hours east of UTC. */
const east2: TimeContext = { now: NOW, offsetMinutes: () => 120 };

const at = (text: string, ctx = utc): number => {
  const r = parseTimeSpec(text, ctx);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.at;
};

test('durations before now: s, m, h, d, w, and several together', () => {
  assert.equal(at('now'), NOW);
  assert.equal(at('30s'), NOW - 30_000);
  assert.equal(at('45m'), NOW - 45 * 60_000);
  assert.equal(at('6h'), NOW - 6 * 3_600_000);
  assert.equal(at('2d'), NOW - 2 * 86_400_000);
  assert.equal(at('1w'), NOW - 7 * 86_400_000);
  assert.equal(at('1d12h'), NOW - 36 * 3_600_000);
  assert.equal(at(' 0h '), NOW);
});

test('dates: local midnight or a local time; Z for UTC', () => {
  assert.equal(at('2025-03-01'), Date.UTC(2025, 2, 1));
  assert.equal(at('2025-03-01', east2), Date.UTC(2025, 2, 1) - 2 * 3_600_000);
  assert.equal(at('2025-03-01T08:30', east2), Date.UTC(2025, 2, 1, 6, 30));
  assert.equal(at('2025-03-01 08:30:15', east2), Date.UTC(2025, 2, 1, 6, 30, 15));
  assert.equal(at('2025-03-01T08:30Z', east2), Date.UTC(2025, 2, 1, 8, 30));
  assert.equal(at('2024-02-29'), Date.UTC(2024, 1, 29), 'a leap day');
});

test('anything else: one sentence naming the word and the forms', () => {
  for (const bad of ['', 'yesterday', '2d ago', '-2d', '2x', '2025-02-29', '2025-13-01', '2025-03-01T24:00', '2025-3-1', '1e3h']) {
    const r = parseTimeSpec(bad, utc);
    assert.ok(!r.ok, bad);
    assert.match(r.message, /^".*" is not a point in time.*: give a duration before now \(30m, 6h, 2d, 1w, 1d12h\), now, or a date/);
    assert.ok(!r.message.includes('\n'));
  }
  const far = parseTimeSpec('99999999w', utc);
  assert.ok(!far.ok && /before 1970/.test(far.message));
});
