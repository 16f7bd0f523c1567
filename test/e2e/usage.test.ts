/**
 * Measured usage through a real master and the installed CLI: a busy loop's
 * CPU time is about its wall time, a sleep's about none, as `check` shows
 * them through its checkFMT codes and `--json`, and `why` for an ended job
 * (its efficiency, like Slurm's seff).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { qpyUser } from '../helpers/qpy.js';
import { TIMES_FIGURE, timesMs } from '../../src/executor/wrapper.js';
import type { Job } from '../../src/protocol/job.js';

/** `H:MM:SS.ff` (check's `%U`) in ms. */
const cpuText = (t: string): number => {
  const m = /^(\d+):(\d\d):(\d\d)\.(\d\d)$/.exec(t);
  assert.ok(m, `a CPU time: ${t}`);
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]) * 10;
};

test('usage: a busy loop’s CPU time is its wall time and a sleep’s none, in check’s codes, --json and why', {
  timeout: 60_000,
}, async (t) => {
  await using u = qpyUser();
  // The loop prints its own CPU time (`times`, second line) to compare with.
  await u.ok(['sub', '-m', '1', `timeout 1.5 sh -c 'while :; do :; done'; times`]); // 1
  await u.ok(['sub', '-m', '0', 'sleep 0.7']); // 2
  await u.ok(['wait', '1', '2']);

  const doc = JSON.parse(await u.ok(['check', '--json'])) as { jobs: Job[] };
  const [loop, sleeper] = [1, 2].map((id) => doc.jobs.find((j) => j.id === id)!);
  assert.ok(loop && sleeper && loop.state.type === 'done' && sleeper.state.type === 'done');
  const lu = loop.state.usage;
  const su = sleeper.state.usage;
  assert.ok(lu && su, 'both runs have their usage in --json');
  const cpu = lu.userMs + lu.sysMs;
  const wall = loop.state.endedAt - loop.state.startedAt;
  const line = readFileSync(join(u.work, 'job_1.out'), 'utf8').split('\n')[1] ?? '';
  const m = new RegExp(`^${TIMES_FIGURE} ${TIMES_FIGURE}$`).exec(line);
  assert.ok(m, `the loop's own times: ${line}`);
  const own = timesMs(m[1]!, m[2]!, m[3]) + timesMs(m[4]!, m[5]!, m[6]);
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= b * 0.1 + 10, `${what}: ${a} ms against ${b} ms`);
  near(cpu, own, 'the loop’s CPU time against its own times');
  // With a core to itself (not on a machine busy with other work), a busy loop uses its wall time × 1 core.
  if (own >= wall * 0.9) near(cpu, wall, 'the loop’s CPU time against its wall time');
  else t.diagnostic(`the machine was busy: the loop had ${Math.round((own / wall) * 100)} % of a core`);
  assert.ok(su.userMs + su.sysMs <= 30, `a sleep used ${su.userMs + su.sysMs} ms of CPU`);
  assert.ok((lu.peakKB ?? 0) > 0, 'the loop’s memory was sampled');

  await u.ok(['config', 'checkFMT', '%j|%W|%U|%M|%C|%P\\n']);
  const rows = new Map(
    (await u.ok(['check', '1', '2']))
      .trim()
      .split('\n')
      .map((r) => [Number(r.split('|')[0]), r.split('|').slice(1)] as const),
  );
  const [lw, lc, lm, lcpu, lmem] = rows.get(1)!;
  assert.equal(lw, `0:00:0${Math.floor(wall / 1000)}`);
  assert.equal(cpuText(lc!), Math.floor(cpu / 10) * 10);
  assert.match(lm!, /^\d+(\.\d)?[KM]$/);
  assert.match(lcpu!, /^\d+\.\d%$/);
  assert.match(lmem!, /^\d+\.\d%$/, 'a share of the 1 GB asked for');
  const [, sc, , scpu, smem] = rows.get(2)!;
  assert.ok(cpuText(sc!) <= 30);
  assert.match(scpu!, /^[0-3]\.\d%$/, 'a sleep uses next to none of its core');
  assert.equal(smem, 'None', 'no memory requested');

  const why = await u.ok(['why', '1']);
  assert.match(
    why,
    /^Job 1 ended done \(exit 0\) on \S+; wall time 0:00:0\d\.\nCPU time \d+:\d\d:\d\d\.\d\d \(user .*, system .*\): \d+\.\d% of 1 core × 0:00:0\d\.\nMemory: peak \S+; 1 GB requested: \d+\.\d%\.\n$/,
  );
  assert.match(await u.ok(['why', '2']), /\nMemory: peak .*; no memory requested\.\n$/);
});
