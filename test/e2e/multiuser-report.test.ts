/**
 * `qpy-admin report` end to end: real masters of two users run jobs of
 * known cores and durations through qpy-multiuser, which is SIGKILLed and
 * started again while they run. The report's core-hours equal the sum over
 * the jobs of cores × (endedAt − startedAt) as `qpy check --json` gives
 * them, within 1 %, per user and in total; jobs and failures are counted
 * once; the table and the bad-input line are as documented.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, type QpyUser } from '../helpers/qpy.js';
import { admin, joinedUser, QPY_ADMIN, testMultiuser } from '../helpers/multiuser.js';
import { waitFor } from '../helpers/wait.js';
import type { UsageReport } from '../../src/protocol/usage-report.js';

interface CheckedJob {
  spec: { cores: number };
  state: { type: string; startedAt?: number; endedAt?: number };
}

const jobsOf = async (u: QpyUser): Promise<CheckedJob[]> => (JSON.parse(await u.ok(['check', '--json'])) as { jobs: CheckedJob[] }).jobs;

/** Σ cores × hours of the jobs as their master recorded them. */
const coreHours = (jobs: CheckedJob[]): number =>
  jobs.reduce((s, j) => s + (j.spec.cores * (j.state.endedAt! - j.state.startedAt!)) / 3_600_000, 0);

const near = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) <= 0.01 * want, `${what}: the report says ${got} core-hours, the jobs ${want} (more than 1 % apart)`);

test('qpy-admin report: core-hours equal the jobs’ cores × run time within 1 %, across a SIGKILL of qpy-multiuser', {
  timeout: 120_000,
}, async () => {
  await using mu = testMultiuser({
    nodes: 'n1 address=localhost cores=4 memory=16\nn2 address=localhost cores=4 memory=16\n',
    env: { QPY_PROBE_MS: '0' },
  });
  await admin(mu, ['start']);
  await using alice = await joinedUser(mu, 'alice');
  await using bob = await joinedUser(mu, 'bob');
  const since = Date.now();
  await alice.ok(['sub', '-n', '2', '-m', '1', 'sleep 6']);
  await alice.ok(['sub', '-m', '1', 'sleep 5']);
  await alice.ok(['sub', '-m', '1', 'sleep 7; exit 3']);
  await bob.ok(['sub', '-m', '1', 'sleep 6']);
  await bob.ok(['sub', '-n', '2', '-m', '2', 'sleep 5']);
  const runningAll = async () => [...(await jobsOf(alice)), ...(await jobsOf(bob))].every((j) => j.state.type === 'running');
  await waitFor(runningAll, { what: 'all five jobs running' });

  // SIGKILLed while every slot is held; started again: the masters register their running jobs again.
  await mu.kill();
  await admin(mu, ['start']);
  const ended = async (u: QpyUser) => (await jobsOf(u)).every((j) => j.state.endedAt !== undefined);
  await waitFor(async () => (await ended(alice)) && (await ended(bob)), { what: 'all jobs ended', timeoutMs: 30_000 });
  // The last releases go out at the masters' next pass: wait until the daemon holds nothing.
  await waitFor(async () => /There are 0 out of a total of 8 cores being used/.test(await bob.ok(['status'])), { what: 'every slot back' });

  const r = JSON.parse(await admin(mu, ['report', '--json'])) as UsageReport & { qpy: number };
  assert.equal(r.qpy, 1);
  const a = r.users.find((u) => u.name === 'alice')!;
  const b = r.users.find((u) => u.name === 'bob')!;
  const aJobs = await jobsOf(alice);
  const bJobs = await jobsOf(bob);
  near(a.coreHours, coreHours(aJobs), 'alice');
  near(b.coreHours, coreHours(bJobs), 'bob');
  near(r.total.coreHours, coreHours([...aJobs, ...bJobs]), 'the total');
  assert.deepEqual([a.jobs, a.failed, b.jobs, b.failed], [3, 1, 2, 0], 'each run counted once; the failure as alice’s master said');
  assert.ok(Math.abs(b.gbHours - (1 * 6 + 2 * 5) / 3600) < 0.01 * b.gbHours + 1e-4, `bob's GB-hours ${b.gbHours}`);
  assert.deepEqual([a.entitlement, b.entitlement], [0.5, 0.5], 'even rules: half each');
  assert.ok(Math.abs(a.share + b.share - 1) < 1e-9);

  // The table, and a period given in the documented forms.
  const table = await admin(mu, ['report', '--since', '1h']);
  assert.match(table, /^Usage from \d{4}-\d\d-\d\d \d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d \(now\); rules: even, 8 cores taking jobs\.$/m);
  assert.match(table, /^USER +CORE-HOURS +GB-HOURS +JOBS +FAILED +SHARE +ENTITLED$/m);
  assert.match(table, /^alice +\d+\.\d\d +\d+\.\d\d +3 +1 +\d+\.\d% +50\.0%$/m);
  assert.match(table, /^total +\d+\.\d\d +\d+\.\d\d +5 +1$/m);
  const before = JSON.parse(
    await admin(mu, ['report', '--json', '--until', `${new Date(since - 60_000).toISOString().slice(0, 16)}Z`]),
  ) as UsageReport;
  assert.deepEqual(before.users, [], 'nothing ran before the jobs');
  const bad = await run(QPY_ADMIN, ['report', '--since', 'yesterday'], mu.dir.path, mu.env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^qpy-admin: --since: "yesterday" is not a point in time: give a duration before now .*\n$/);
});
