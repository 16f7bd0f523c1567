/** `--since`/`--until` times: dates in local time, ages before now; anything else one clear error. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWhen, timeWindow } from '../../../src/cli/when.js';
import { historyFormat, DEFAULT_HISTORY_FORMAT } from '../../../src/cli/commands/history.js';
import { QpyError } from '../../../src/errors.js';

const NOW = new Date(2025, 5, 15, 12, 0, 0).getTime();
const H = 3_600_000;

test('ages before now: s m h d w, combined', () => {
  assert.equal(parseWhen('2d', NOW), NOW - 48 * H);
  assert.equal(parseWhen('6h', NOW), NOW - 6 * H);
  assert.equal(parseWhen('1d12h', NOW), NOW - 36 * H);
  assert.equal(parseWhen('30m', NOW), NOW - 30 * 60_000);
  assert.equal(parseWhen('90s', NOW), NOW - 90_000);
  assert.equal(parseWhen('1w', NOW), NOW - 7 * 24 * H);
  assert.equal(parseWhen('0h', NOW), NOW);
});

test('dates in local time: a day, a minute, a second', () => {
  assert.equal(parseWhen('2025-03-01', NOW), new Date(2025, 2, 1).getTime());
  assert.equal(parseWhen('2025-03-01 14:30', NOW), new Date(2025, 2, 1, 14, 30).getTime());
  assert.equal(parseWhen('2025-03-01T14:30:05', NOW), new Date(2025, 2, 1, 14, 30, 5).getTime());
});

test('anything else is no time', () => {
  for (const bad of [
    '',
    'yesterday',
    '2x',
    'd',
    '-2d',
    '2.5d',
    '2025-02-30',
    '2025-13-01',
    '2025-03-01 25:00',
    '2025-3-1',
    '99999999999d',
    '2d ago',
  ])
    assert.equal(parseWhen(bad, NOW), null, bad);
});

test('the window: bad times and an empty window are one clear error', () => {
  assert.deepEqual(timeWindow(undefined, undefined, NOW), { since: null, until: null });
  assert.deepEqual(timeWindow('1d', undefined, NOW), { since: NOW - 24 * H, until: null });
  const err = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: unknown) => e instanceof QpyError && e.code === 'INVALID_ARGUMENT' && re.test(e.message));
  err(() => timeWindow('2x', undefined, NOW), /^Bad time for --since: 2x$/);
  err(() => timeWindow(undefined, '2025-02-30', NOW), /^Bad time for --until: 2025-02-30$/);
  err(() => timeWindow('1d', '2d', NOW), /--since 1d is not before --until 2d/);
});

test('--format: escapes understood, a newline added when missing', () => {
  assert.equal(historyFormat(undefined), DEFAULT_HISTORY_FORMAT);
  assert.equal(historyFormat('%j %s'), '%j %s\n');
  assert.equal(historyFormat('%j\\t%s\\n'), '%j\t%s\n');
});
