/**
 * The admin's accounting report as a pure function of ledger rows: clipping
 * to the period, slots still held, jobs and failures counted where granted,
 * share and entitlement under `even` and `explicit` rules, and folding the
 * rows in parts giving the same report as all at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, finishReport, newTally, tallyGrants, type GrantRecord } from '../../../src/allocator/usage-report.js';
import { parseRules, type Rules } from '../../../src/allocator/rules.js';
import { usageReportSchema } from '../../../src/protocol/usage-report.js';

const H = 3_600_000;
const EVEN: Rules = { type: 'even', minimum: 0, entries: [] };

function rules(text: string): Rules {
  const r = parseRules(text);
  assert.ok(r.ok);
  return r.rules;
}

const row = (user: string, cores: number, memGB: number, from: number, to: number | null, ended: string | null = 'done'): GrantRecord => ({
  user,
  cores,
  memGB,
  grantedAt: from * H,
  releasedAt: to === null ? null : to * H,
  ended,
});

test('core-hours and GB-hours: cores × hours held, summed per user; the total is the sum', () => {
  const r = buildReport(
    [row('alice', 2, 4, 0, 3), row('alice', 1, 1, 1, 2), row('bob', 4, 8, 0, 0.5)],
    { since: null, until: 10 * H },
    10 * H,
    EVEN,
    8,
  );
  assert.deepEqual(
    r.users.map((u) => [u.name, u.coreHours, u.gbHours, u.jobs, u.failed]),
    [
      ['alice', 7, 13, 2, 0],
      ['bob', 2, 4, 1, 0],
    ],
  );
  assert.deepEqual(r.total, { coreHours: 9, gbHours: 17, jobs: 3, failed: 0 });
  assert.equal(r.capacityCoreHours, null, 'no start: no capacity');
  usageReportSchema(JSON.parse(JSON.stringify(r)), '$');
});

test('the period clips every slot; one still held counts up to now; jobs count where they were granted', () => {
  const rows = [row('a', 1, 0, 0, 4), row('a', 1, 0, 2, 3), row('a', 2, 0, 3, null), row('a', 1, 0, 5, 6)];
  const r = buildReport(rows, { since: 2 * H, until: 5 * H }, 4.5 * H, EVEN, 4);
  // [2,4) → 2; [2,3) → 1; [3,4.5) × 2 → 3; the last is after the period.
  assert.equal(r.users[0]!.coreHours, 6);
  assert.equal(r.users[0]!.jobs, 2, 'granted at 2 and 3; the one granted at 0 began before the period');
  assert.equal(r.capacityCoreHours, 4 * 2.5, 'cores × (now − since): the period has not ended');
  assert.equal(buildReport(rows, { since: 10 * H, until: 11 * H }, 11 * H, EVEN, 4).users[0]!.coreHours, 2, 'held since 3, still held');
  const empty = buildReport(rows.slice(0, 2), { since: 10 * H, until: 11 * H }, 11 * H, EVEN, 4);
  assert.deepEqual(empty.users, []);
  assert.deepEqual(empty.total, { coreHours: 0, gbHours: 0, jobs: 0, failed: 0 });
});

test('failed: what masters said, other than done and killed; unknown ends are not failures', () => {
  const rows = ['done', 'killed', 'failed', 'node_failed', 'timeout', null].map((e, i) => row('a', 1, 0, i, i + 1, e));
  assert.equal(buildReport(rows, { since: null, until: 10 * H }, 10 * H, EVEN, 4).users[0]!.failed, 3);
});

test('share against entitlement: even splits among the users who held slots; explicit as configured', () => {
  const rows = [row('alice', 3, 0, 0, 1), row('bob', 1, 0, 0, 1), row('carol', 1, 0, 5, 5)];
  const even = buildReport(rows, { since: 0, until: 2 * H }, 2 * H, EVEN, 8);
  assert.deepEqual(
    even.users.map((u) => [u.name, u.share, u.entitlement]),
    [
      ['alice', 0.75, 0.5],
      ['bob', 0.25, 0.5],
    ],
    'carol held nothing in the period: not counted',
  );
  const explicit = buildReport(rows, { since: 0, until: 2 * H }, 2 * H, rules('explicit minimum 1\nalice 1+50%\nbob 2\n'), 10);
  // 10 cores − minimums 2 = 8: alice 1 + 4, bob 1 + 2, and the remainder 2 spread over both (file order): alice 6, bob 4.
  assert.deepEqual(
    explicit.users.map((u) => [u.name, u.entitlement]),
    [
      ['alice', 0.6],
      ['bob', 0.4],
    ],
  );
  const unlisted = buildReport(
    [row('dave', 1, 0, 0, 1), ...rows],
    { since: 0, until: 2 * H },
    2 * H,
    rules('explicit minimum 1\nalice 4\n'),
    10,
  );
  assert.equal(unlisted.users.find((u) => u.name === 'dave')!.entitlement, 0.1, 'an unlisted user gets the minimum only');
  const impossible = buildReport(rows, { since: 0, until: 2 * H }, 2 * H, rules('even minimum 5\n'), 8);
  assert.ok(
    impossible.users.every((u) => u.entitlement === null),
    'minimums above the cores: no entitlement',
  );
});

test('folding the rows in parts gives the report of all of them at once', () => {
  const rows: GrantRecord[] = [];
  for (let i = 0; i < 500; i++)
    rows.push(row(`u${i % 7}`, 1 + (i % 5), i % 3, i / 10, i % 11 === 0 ? null : i / 10 + (i % 13) / 7, i % 4 === 0 ? 'failed' : 'done'));
  const period = { since: 5 * H, until: 40 * H };
  const tally = newTally();
  for (let i = 0; i < rows.length; i += 37) tallyGrants(tally, rows.slice(i, i + 37), period, 45 * H);
  assert.deepEqual(finishReport(tally, period, 45 * H, EVEN, 16), buildReport(rows, period, 45 * H, EVEN, 16));
});

test('GPU-hours: GPUs × hours held per user, only where some slot held a GPU; the table gains the column then', async () => {
  const { formatReport } = await import('../../../src/admin-cli/format-report.js');
  const r = buildReport(
    [{ ...row('alice', 1, 1, 0, 2), gpus: 2 }, row('bob', 1, 1, 0, 1), { ...row('bob', 1, 1, 1, null), gpus: 1 }],
    { since: null, until: 4 * H },
    4 * H,
    EVEN,
    8,
  );
  assert.deepEqual(usageReportSchema(JSON.parse(JSON.stringify(r)), '$'), r);
  assert.deepEqual(
    r.users.map((u) => [u.name, u.gpuHours]),
    [
      ['bob', 3],
      ['alice', 4],
    ],
  );
  assert.equal(r.total.gpuHours, 7);
  assert.match(formatReport(r), /USER +CORE-HOURS +GB-HOURS +GPU-HOURS +JOBS/);
  const none = buildReport([row('bob', 1, 1, 0, 1)], { since: null, until: 4 * H }, 4 * H, EVEN, 8);
  assert.equal(none.total.gpuHours, undefined);
  assert.doesNotMatch(formatReport(none), /GPU-HOURS/);
});
