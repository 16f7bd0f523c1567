/**
 * The administrator's limits (allocator/limits-file.ts): the file's format,
 * the judgement of a demand at submission and at grant time, and how the
 * allocator's handler answers `feasible` and `request` under them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, describeLimits, limitsProblem, parseLimitsFile } from '../../../src/allocator/limits-file.js';
import { allocator, node } from './fixtures.js';
import { demand, register, request, send } from './handle-helpers.js';

test('the limits file: max_time in any -t form or none, memory_limits on|required|off, comments; a later line wins', () => {
  assert.deepEqual(parseLimitsFile(''), { ok: true, limits: DEFAULT_LIMITS });
  assert.deepEqual(parseLimitsFile('# cluster limits\nmax_time 1-00:00:00\nmemory_limits required  # no exceptions\n'), {
    ok: true,
    limits: { maxTime: 86400, memoryLimits: 'required' },
  });
  assert.deepEqual(parseLimitsFile('max_time 90\nmax_time none\n'), { ok: true, limits: { maxTime: null, memoryLimits: 'on' } });
  for (const [text, message] of [
    ['max_time', /line 1: expected KEY VALUE/],
    ['max_time 1 2', /line 1: expected KEY VALUE/],
    ['\nmax_time 99:99', /line 2: max_time: a time limit is/],
    ['memory_limits maybe', /memory_limits is on, required or off/],
    ['cpu_limits on', /unknown key "cpu_limits"/],
  ] as const) {
    const r = parseLimitsFile(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.message, message);
  }
});

test('a demand under the limits: time above the maximum refused always, none refused only at grant; memory limits when required', () => {
  const limits = { maxTime: 3600, memoryLimits: 'required' } as const;
  assert.equal(limitsProblem(limits, { memGB: 1, memLimit: true, time: 3600 }, true), null);
  assert.equal(limitsProblem(limits, { memGB: 1, memLimit: true }, false), null, 'at submission the master gives it the maximum');
  assert.match(limitsProblem(limits, { memGB: 1, memLimit: true }, true)!, /no time limit, and this cluster's maximum is 01:00:00/);
  assert.match(limitsProblem(limits, { memGB: 1, memLimit: true, time: 3601 }, false)!, /01:00:01 is above this cluster's maximum/);
  assert.match(limitsProblem(limits, { memGB: 1, time: 60 }, false)!, /memory limits are required/);
  assert.equal(limitsProblem(limits, { memGB: 0, time: 60 }, true), null, 'no memory asked: nothing to limit');
  assert.equal(limitsProblem(DEFAULT_LIMITS, { memGB: 9 }, true), null);
  assert.equal(describeLimits(limits), 'maximum time 01:00:00; memory limits required');
  assert.equal(describeLimits(DEFAULT_LIMITS), 'no maximum time; memory limits on (users may turn them off)');
});

test('the handler: feasible names the problem and carries the limits; request refuses over_limits with the problem; status shows them', () => {
  const s = allocator([node('n1', 4)]);
  register(s, 'A');
  const plain = send(s, { type: 'feasible', user: 'A', demand: demand() });
  assert.deepEqual([plain.type, 'limits' in plain], ['feasibility', false], 'no limits set: none sent');
  s.limits = { maxTime: 600, memoryLimits: 'on' };
  const ok = send(s, { type: 'feasible', user: 'A', demand: demand() });
  assert.deepEqual(ok.type === 'feasibility' && [ok.problem, ok.limits], [null, { maxTime: 600, memoryLimits: 'on' }]);
  const over = send(s, { type: 'feasible', user: 'A', demand: { ...demand(), time: 601 } });
  assert.match(over.type === 'feasibility' ? over.problem! : '', /above this cluster's maximum, 00:10:00/);
  assert.equal(request(s, 'A', 1, 1, { ...demand(), time: 600 }), 'n1');
  const refused = send(s, { type: 'request', user: 'A', jobId: 2, demand: demand(), queueSize: 1 });
  assert.deepEqual(refused.type === 'refused' && [refused.reason, refused.problem], [
    'over_limits',
    "it has no time limit, and this cluster's maximum is 00:10:00",
  ]);
  const status = send(s, { type: 'status', user: 'A' });
  assert.deepEqual(status.type === 'status' && status.status.limits, { maxTime: 600, memoryLimits: 'on' });
});
