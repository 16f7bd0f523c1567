/** Tests for summarizeGroups (src/master/group-summary.ts) and its lines (src/cli/format-groups.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeGroups } from '../../../src/master/group-summary.js';
import { formatGroup } from '../../../src/cli/format-groups.js';
import { formatCheck } from '../../../src/cli/format-check.js';
import type { Job, JobStatus } from '../../../src/protocol/job.js';
import { job } from './fixtures.js';

const member = (id: number, status: JobStatus, group: NonNullable<Job['spec']['group']>, command = 'run $QPY_ARRAY_INDEX'): Job =>
  job(id, status, { command, group });

test('members of arrays and loads are counted per status; other jobs are kept as they are', () => {
  const arr = (index: number) => ({ id: 2, index, kind: 'array' as const, cap: 2 });
  const held: Job = { ...member(5, 'queue', arr(4)), state: { type: 'queue', held: true } };
  const listed = [
    job(1, 'done'),
    member(2, 'done', arr(3)),
    member(3, 'running', arr(1)),
    member(4, 'queue', arr(2)),
    held,
    member(7, 'failed', { id: 6, index: 2, kind: 'load' }, 'two'),
    member(6, 'queue', { id: 6, index: 1, kind: 'load' }, 'one'),
    job(9, 'queue'),
  ];
  const { jobs, groups } = summarizeGroups(listed);
  assert.deepEqual(
    jobs.map((j) => j.id),
    [1, 9],
  );
  assert.deepEqual(groups, [
    {
      id: 2,
      kind: 'array',
      cap: 2,
      first: 2,
      last: 5,
      indices: [1, 4],
      jobs: 4,
      held: 1,
      command: 'run $QPY_ARRAY_INDEX',
      counts: [
        ['queue', 2],
        ['running', 1],
        ['done', 1],
      ],
    },
    {
      id: 6,
      kind: 'load',
      first: 6,
      last: 7,
      indices: [1, 2],
      jobs: 2,
      held: 0,
      command: 'one',
      counts: [
        ['queue', 1],
        ['failed', 1],
      ],
    },
  ]);
  assert.equal(
    formatGroup(groups[0]!),
    'array 2 (jobs 2-5, indices 1-4, at most 2 at once): 2 queue (1 held), 1 running, 1 done: run $QPY_ARRAY_INDEX\n',
  );
  assert.equal(formatGroup(groups[1]!), 'load 6 (jobs 6-7): 1 queue, 1 failed: one …\n');
  const out = formatCheck(
    jobs,
    '%j (%s)\n',
    0,
    true,
    undefined,
    undefined,
    groups.map((g) => ({ id: g.first, text: formatGroup(g) })),
  );
  assert.equal(out, `1 (done)\n${formatGroup(groups[0]!)}${formatGroup(groups[1]!)}9 (queue)\nJob submission is paused.\n`);
  assert.match(
    formatGroup(groups[1]!, () => 'red'),
    /\x1b\[31m1 queue\x1b\[0m, \x1b\[31m1 failed\x1b\[0m/,
  );
});

test('a group of one job, and nothing listed', () => {
  const { groups } = summarizeGroups([member(3, 'done', { id: 3, index: 7, kind: 'array' })]);
  assert.equal(formatGroup(groups[0]!), 'array 3 (job 3, index 7): 1 done: run $QPY_ARRAY_INDEX\n');
  assert.deepEqual(summarizeGroups([]), { jobs: [], groups: [] });
});
