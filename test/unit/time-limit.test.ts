/** Time limits as written (protocol/time-limit.ts): every Slurm form, `none`, the bounds, and the form shown. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTimeLimit, MAX_TIME_LIMIT, parseTimeLimit } from '../../src/protocol/time-limit.js';

test('every form sub -t takes, in seconds; none and unlimited mean no limit', () => {
  const cases: [string, number | null][] = [
    ['30', 1800],
    ['5:30', 330],
    ['0:00:02', 2],
    ['12:00:00', 43200],
    ['100:00:00', 360000],
    ['2-12', 216000],
    ['2-12:30', 217800],
    ['1-00:00:01', 86401],
    [' 10 ', 600],
    ['none', null],
    ['UNLIMITED', null],
  ];
  for (const [raw, seconds] of cases) assert.deepEqual(parseTimeLimit(raw), { ok: true, seconds }, raw);
});

test('a malformed or out-of-range limit is refused with the forms named', () => {
  for (const raw of ['', '1h', '1:60', '1:00:60', '1-24', '1-1:60', '-5', '1.5', '1:2:3:4', '2-', 'abc']) {
    const r = parseTimeLimit(raw);
    assert.equal(r.ok, false, raw);
    if (!r.ok) assert.match(r.message, /MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS/, raw);
  }
  assert.match((parseTimeLimit('0') as { message: string }).message, /at least 1 second/);
  assert.match((parseTimeLimit('366-00:00:00') as { message: string }).message, /at most 365 days/);
  assert.deepEqual(parseTimeLimit('365-00:00:00'), { ok: true, seconds: MAX_TIME_LIMIT });
});

test('shown as HH:MM:SS, with D- from a day on', () => {
  assert.equal(formatTimeLimit(2), '00:00:02');
  assert.equal(formatTimeLimit(3600), '01:00:00');
  assert.equal(formatTimeLimit(86400 + 61), '1-00:01:01');
  for (const s of [1, 59, 3599, 86399, 86400, 1234567]) assert.deepEqual(parseTimeLimit(formatTimeLimit(s)), { ok: true, seconds: s });
});
