/**
 * A 200,000-job array stays usable (issue 13, finding 6): a plain `check`
 * sums arrays up past 10,000 matching jobs and says so, `--all` lists every
 * job (read a page at a time), filters pick jobs one by one, `kill all` and
 * `clean all` say what they did, and a restart keeps every change. Timings
 * are the bench's business (bench/bulk); here nothing may time out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupSummary, Job } from '../../src/protocol/job.js';
import { qpyUser } from '../helpers/qpy.js';

const N = 200_000;
const PAUSED = 'Job submission is paused.\n';

interface CheckDoc {
  jobs: Job[];
  groups?: GroupSummary[];
  summed?: boolean;
  matched?: number;
}

test(`an array of ${N} jobs: check sums it up, --all pages through it, kill all and clean all report what they did, a restart keeps it`, {
  timeout: 120_000,
}, async () => {
  await using u = qpyUser();
  await u.ok(['ctrlQueue', 'pause']);
  await u.ok(['sub', 'true']);
  assert.equal(await u.ok(['sub', '--array', `1-${N}`, 'echo $QPY_ARRAY_INDEX']), `Jobs 2-${N + 1} received (array 2).\n`);
  await u.ok(['sub', 'true']);
  const last = N + 2;
  const arrayLine = (counts: string) => `array 2 (jobs 2-${N + 1}, indices 1-${N}): ${counts}: echo $QPY_ARRAY_INDEX\n`;
  const summed = `${last} jobs match, more than 10000: arrays and loads are shown one line each (every job: qpy check --all).\n`;
  const single = (id: number, status: string) => `${id} (${status}):true (on None; wd: ${u.work})\n`;

  // A plain check: the jobs in no array one by one, the array in one line, then why.
  assert.equal(await u.ok(['check']), single(1, 'queue') + arrayLine(`${N} queue`) + single(last, 'queue') + summed + PAUSED);
  const doc = JSON.parse(await u.ok(['check', '--json'])) as CheckDoc;
  assert.deepEqual([doc.jobs.map((j) => j.id), doc.groups?.length, doc.summed, doc.matched], [[1, last], 1, true, last]);
  // A filter matching few jobs lists them; one matching many sums up too.
  assert.equal((await u.ok(['check', '5-7'])).split('\n').length - 1, 3 + 1);
  assert.equal(await u.ok(['check', 'queue']), single(1, 'queue') + arrayLine(`${N} queue`) + single(last, 'queue') + summed + PAUSED);
  assert.equal(
    await u.ok(['check', '--groups']),
    single(1, 'queue') + arrayLine(`${N} queue`) + single(last, 'queue') + PAUSED,
    '--groups says nothing more',
  );
  // --all: every job, in order, across pages of 2,000.
  const all = (await u.ok(['check', '--all'])).split('\n');
  assert.equal(all.length, last + 2, 'every job, the paused line and the final newline');
  assert.deepEqual(
    [all[0], all[1], all[N], all[N + 1], all[N + 2]],
    [
      single(1, 'queue').trim(),
      `2 (queue):echo $QPY_ARRAY_INDEX (on None; wd: ${u.work})`,
      `${N + 1} (queue):echo $QPY_ARRAY_INDEX (on None; wd: ${u.work})`,
      single(last, 'queue').trim(),
      PAUSED.trim(),
    ],
  );
  const allDoc = JSON.parse(await u.ok(['check', '--all', '--json'])) as CheckDoc;
  assert.deepEqual(
    [allDoc.jobs.length, allDoc.jobs[1]!.spec.group, allDoc.groups, allDoc.summed],
    [last, { id: 2, index: 1, kind: 'array' }, undefined, undefined],
  );
  const both = await u.qpy(['check', '--all', '--groups']);
  assert.deepEqual([both.code, both.stderr], [1, 'qpy: --groups and --all do not go together (qpy check --groups, or qpy check --all)\n']);

  // kill: part of the array, then the rest and the other jobs; each says how many.
  assert.equal(await u.ok(['kill', `2-${N / 2 + 1}`]), `${N / 2} jobs removed from the queue.\n`);
  assert.equal(
    await u.ok(['check', '--groups']),
    single(1, 'queue') + arrayLine(`${N / 2} queue, ${N / 2} undone`) + single(last, 'queue') + PAUSED,
  );
  await u.ok(['restart']);
  assert.equal(
    await u.ok(['check', '--groups']),
    single(1, 'queue') + arrayLine(`${N / 2} queue, ${N / 2} undone`) + single(last, 'queue') + PAUSED,
    'the same after a restart',
  );
  const undone = (JSON.parse(await u.ok(['check', '--json', '2'])) as CheckDoc).jobs[0]!;
  assert.equal(undone.state.type, 'undone');
  assert.equal(await u.ok(['kill', 'all']), `${N / 2 + 2} jobs removed from the queue.\n`);
  const killedNote = await u.qpy(['kill', 'all']);
  assert.deepEqual([killedNote.code, killedNote.stderr], [1, 'qpy: Nothing to do: required jobs not found.\n']);

  // clean: part, a restart, the rest.
  assert.equal(await u.ok(['clean', `1-${N / 2}`]), `${N / 2} finished jobs removed.\n`);
  await u.ok(['restart']);
  const after = JSON.parse(await u.ok(['check', '--groups', '--json'])) as CheckDoc;
  assert.deepEqual(
    [after.jobs.map((j) => [j.id, j.state.type]), after.groups!.map((g) => [g.first, g.last, g.jobs, g.counts])],
    [[[last, 'undone']], [[N / 2 + 1, N + 1, N / 2 + 1, [['undone', N / 2 + 1]]]]],
  );
  assert.equal(await u.ok(['clean', 'all']), `${N / 2 + 2} finished jobs removed.\n`);
  assert.equal(await u.ok(['check']), PAUSED);
  await u.ok(['restart']);
  assert.equal(await u.ok(['check']), PAUSED, 'nothing comes back');
  // IDs are not reused.
  assert.equal(await u.ok(['sub', 'true']), `Job ${last + 1} received.\n`);
});
