/**
 * `qpy-admin report` as a table: aligned columns, percentages, `-` for an
 * entitlement the rules cannot give, the cluster's use when the period has
 * a start, and one line when nothing was held.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport } from '../../src/admin-cli/format-report.js';
import type { UsageReport } from '../../src/protocol/usage-report.js';

const base: UsageReport = {
  since: null,
  until: 10,
  now: 10,
  rules: 'explicit',
  totalCores: 1,
  users: [],
  total: { coreHours: 0, gbHours: 0, jobs: 0, failed: 0 },
  capacityCoreHours: null,
};

test('the table: one row per user, the total, the cluster’s use', () => {
  const text = formatReport({
    ...base,
    since: 0,
    users: [
      { name: 'alice', coreHours: 12.5, gbHours: 25, jobs: 10, failed: 1, share: 0.625, entitlement: 0.5 },
      { name: 'bo', coreHours: 7.5, gbHours: 15, jobs: 4, failed: 0, share: 0.375, entitlement: null },
    ],
    total: { coreHours: 20, gbHours: 40, jobs: 14, failed: 1 },
    capacityCoreHours: 80,
  });
  const lines = text.split('\n');
  assert.match(lines[0]!, /^Usage from \d{4}-\d\d-\d\d \d\d:\d\d to .* \(now\); rules: explicit, 1 core taking jobs\.$/);
  assert.deepEqual(lines.slice(1), [
    'USER   CORE-HOURS  GB-HOURS  JOBS  FAILED  SHARE  ENTITLED',
    'alice       12.50     25.00    10       1  62.5%     50.0%',
    'bo           7.50     15.00     4       0  37.5%         -',
    'total       20.00     40.00    14       1',
    'The cluster held 20.00 of 80.00 core-hours (25.0%).',
    '',
  ]);
});

test('nothing held: the heading and one line', () => {
  assert.match(formatReport(base), /^Usage from the oldest record to .*\nNo slot was held in this period\.\n$/);
});
