/**
 * Time and memory limits through the installed CLI, on this machine's node
 * agent: `sub -t` ends a job `timeout` (also across a SIGKILL of the master
 * and its restart), `-m` ends a growing job `out_of_memory` while its
 * neighbour goes on, and check, --json, why, retry and the settings know it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkStatuses, qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';
import { pidAlive } from '../../src/discovery.js';

/** The job's state as `check --json` gives it. */
async function stateOf(u: ReturnType<typeof qpyUser>, id: number): Promise<Record<string, unknown>> {
  const doc = JSON.parse(await u.ok(['check', '--json', String(id)])) as { jobs: { state: Record<string, unknown> }[] };
  return doc.jobs[0]!.state;
}

test('-t: a sleep 300 ends timeout at its limit, within the grace, though its master was SIGKILLed and restarted meanwhile', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser();
  assert.equal(await u.ok(['sub', '-t', '0:00:03', '-m', '0', 'sleep', '300']), 'Job 1 received.\n');
  await waitFor(async () => /1 \(running\)/.test(await u.ok(['check', '1'])), { what: 'job 1 running' });
  const pid = u.masterPid()!;
  u.killMaster();
  await waitFor(() => !pidAlive(pid), { what: 'master gone' });
  // The limit passes with no master; the next command starts one, which reads how the job ended.
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(1)?.status === 'timeout', { what: 'job 1 timeout' });
  const s = await stateOf(u, 1);
  const ran = (s['endedAt'] as number) - (s['startedAt'] as number);
  assert.ok(ran >= 2900 && ran < 3000 + 1000 + 2000, `ran ${ran} ms: the 3 s limit, the 1 s grace, and slack`);
  assert.deepEqual(s['outcome'], { type: 'signal', signal: 'TERM' });
  assert.match(
    await u.ok(['check', '1']),
    /^1 \(timeout\):sleep 300 \(on localhost; wd: .*; time limit 00:00:03 reached \(signal TERM\)\)$/m,
  );
  assert.match(await u.ok(['why', '1']), /ended timeout, stopped at its time limit of 00:00:03/);
  // retry takes it, as a failure (a new run, the old one kept as an attempt).
  assert.equal(await u.ok(['retry', '1']), '1 job queued again.\n');
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(1)?.status === 'timeout', { what: 'job 1 timeout again' });
  assert.match(await u.ok(['check', '1']), /; attempt 2\)$/m);
});

test('-m limits memory: a growing job ends out_of_memory, its neighbour on the same node goes on', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser();
  // 0.05 GB = 51 200 KiB; the job grows by 1 MB every 50 ms.
  const grow = `head -c 1000000 /dev/zero | tr '\\000' a >blob; sh -c 'x=$(cat blob); y=; while :; do y="$y$x"; sleep 0.05; done'`;
  await u.ok(['sub', '-m', '0.05', grow]);
  await u.ok(['sub', '-m', '0.05', 'while [ ! -e go ]; do sleep 0.05; done']);
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(1)?.status === 'out_of_memory', { what: 'job 1 out_of_memory' });
  assert.equal(checkStatuses(await u.ok(['check'])).get(2)?.status, 'running', 'the neighbour goes on');
  assert.match(await u.ok(['check', '1']), /memory limit 0\.05 GB exceeded \(signal TERM\)\)$/m);
  // status says how the node keeps limits (its agent samples /proc), and warns of none.
  const st = JSON.parse(await u.ok(['status', '--json'])) as { nodes: { name: string; limits?: string }[]; warnings: string[] };
  assert.deepEqual([st.nodes[0]?.name, st.nodes[0]?.limits, st.warnings], ['localhost', 'proc', []]);
  assert.match(await u.ok(['why', '1']), /ended out_of_memory, stopped by its node agent when its memory went above its -m of 0\.05 GB/);
  writeFileSync(join(u.work, 'go'), '');
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(2)?.status === 'done', { what: 'job 2 done' });
  // With memLimit off, -m only places jobs: the same job runs on until killed.
  assert.match(await u.ok(['config', 'memLimit', 'off']), /memLimit off/);
  await u.ok(['sub', '-m', '0.05', '-t', '0:00:04', grow]);
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(3)?.status === 'timeout', {
    what: 'job 3 timeout, not out_of_memory',
  });
});

test('defaultTime, -t none over it, #QPY time=, %T, clean and check by the new status words, and bad limits refused', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser();
  assert.equal(await u.ok(['config', 'defaultTime', '2-00:00']), 'defaultTime set to 2-00:00:00.\n');
  writeFileSync(join(u.work, 'job.sh'), '#!/bin/sh\n#QPY time=1:30\ntrue\n', { mode: 0o755 });
  await u.ok(['sub', '-m', '0', 'true']); // 1: the default
  await u.ok(['sub', '-m', '0', '-t', 'none', 'true']); // 2: none
  await u.ok(['sub', '-m', '0', './job.sh']); // 3: the directive
  await u.ok(['sub', '-m', '0', '-t', '5', './job.sh']); // 4: the flag wins
  await u.ok(['config', 'checkFMT', '%j %T\\n']);
  assert.equal(await u.ok(['check']), '1 2-00:00:00\n2 None\n3 00:01:30\n4 00:05:00\n');
  for (const [args, message] of [
    [['sub', '-t', '1h', 'true'], /^qpy: -t: a time limit is MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS \(or none\), not '1h'\n$/],
    [['sub', '-t', '0', 'true'], /^qpy: -t: a time limit is at least 1 second/],
    [['config', 'defaultTime', '25:61'], /defaultTime: a time limit is/],
    [['config', 'memLimit', 'maybe'], /memLimit must be on or off/],
  ] as const) {
    const r = await u.qpy([...args]);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
  }
  writeFileSync(join(u.work, 'bad.sh'), '#!/bin/sh\n#QPY time=soon\ntrue\n', { mode: 0o755 });
  const bad = await u.qpy(['sub', './bad.sh']);
  assert.deepEqual([bad.code, bad.stderr], [1, 'qpy: ./bad.sh, line 2: Invalid value for time: soon.\n']);
  await u.ok(['sub', '-m', '0', '-t', '0:00:01', 'sleep', '30']); // 5
  await waitFor(async () => (await u.ok(['check', 'timeout'])) === '5 00:00:01\n', { what: 'job 5 listed by check timeout' });
  assert.match(await u.ok(['clean', 'timeout']), /1/);
  assert.equal(await u.ok(['check', 'timeout']), '');
});
