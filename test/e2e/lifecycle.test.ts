/**
 * The whole path as a user drives it: the installed `qpy` auto-starts a real
 * master, 20 jobs run locally (exit 0, exit 3, a signal, kills), the master
 * is SIGKILLed while jobs run and some end while it is down, any `qpy`
 * command brings it back, and every job's end is recorded exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

/** `qpy check` lines → {id: [status, tail]} */
function parseCheck(out: string): Map<number, { status: string; line: string }> {
  const m = new Map<number, { status: string; line: string }>();
  for (const line of out.split('\n')) {
    const r = /^(\d+) \((\w+)\):/.exec(line);
    if (r) m.set(Number(r[1]), { status: r[2]!, line });
  }
  return m;
}

test('20 jobs through kill, master SIGKILL and restart: every end recorded once', { timeout: 120_000 }, async () => {
  await using u = qpyUser({ nodes: 'localhost cores=8 memory=64\n' });
  const mark = 'echo run >> runs.$QPY_JOB_ID';
  const wait = 'while [ ! -e go.$QPY_JOB_ID ]; do sleep 0.05; done; echo end >> ends.$QPY_JOB_ID';
  const cmds: string[] = [];
  for (let i = 1; i <= 6; i++) cmds.push(`${mark}; exit 0`);
  for (let i = 7; i <= 10; i++) cmds.push(`${mark}; exit 3`);
  cmds.push(`${mark}; kill -KILL $$`); // 11
  cmds.push(`${mark}; sleep 300`, `${mark}; sleep 300`); // 12, 13: killed by qpy
  for (let i = 14; i <= 16; i++) cmds.push(`${mark}; ${wait}; exit 4`); // end while the master is down
  for (let i = 17; i <= 20; i++) cmds.push(`${mark}; ${wait}; exit 0`); // end after the restart
  for (const [i, c] of cmds.entries()) {
    assert.equal(await u.ok(['sub', '-m', '0.1', c]), `Job ${i + 1} received.\n`);
  }
  const firstPid = u.masterPid();
  assert.ok(firstPid);

  await waitFor(
    async () => {
      const s = parseCheck(await u.ok(['check']));
      return s.get(12)?.status === 'running' && s.get(13)?.status === 'running';
    },
    { what: 'jobs 12 and 13 running' },
  );
  assert.equal(await u.ok(['kill', '12', '13']), '2 jobs will be killed.\n');

  await waitFor(
    async () => {
      const s = parseCheck(await u.ok(['check']));
      return [14, 15, 16, 17, 18, 19, 20].every((id) => s.get(id)?.status === 'running') && s.get(12)?.status === 'killed' ? s : null;
    },
    { what: 'jobs 14-20 running', timeoutMs: 20_000 },
  );

  u.killMaster();
  await waitFor(
    () => {
      try {
        process.kill(firstPid, 0);
        return false;
      } catch {
        return true;
      }
    },
    { what: 'master gone' },
  );
  for (const id of [14, 15, 16]) writeFileSync(join(u.work, `go.${id}`), '');
  await waitFor(() => [14, 15, 16].every((id) => existsSync(join(u.work, `ends.${id}`))), {
    what: 'jobs 14-16 ended while the master was down',
  });

  // Any qpy command brings the master back; it adopts the running jobs.
  const afterRestart = parseCheck(await u.ok(['check']));
  assert.notEqual(u.masterPid(), firstPid);
  for (const id of [17, 18, 19, 20]) assert.equal(afterRestart.get(id)?.status, 'running', `job ${id} still running after restart`);
  for (const id of [17, 18, 19, 20]) writeFileSync(join(u.work, `go.${id}`), '');

  const final = await waitFor(
    async () => {
      const s = parseCheck(await u.ok(['check']));
      return [...s.values()].every((j) => !['queue', 'running'].includes(j.status)) && s.size === 20 ? s : null;
    },
    { what: 'all jobs final', timeoutMs: 20_000 },
  );

  const expect = (ids: number[], status: string, tail: string) => {
    for (const id of ids) {
      const j = final.get(id);
      assert.equal(j?.status, status, `job ${id}: ${j?.line}`);
      assert.ok(j.line.endsWith(tail), `job ${id}: ${j.line} should end with ${tail}`);
    }
  };
  expect([1, 2, 3, 4, 5, 6, 17, 18, 19, 20], 'done', '; exit 0)');
  expect([7, 8, 9, 10], 'failed', '; exit 3)');
  expect([11], 'failed', '; signal KILL)');
  expect([14, 15, 16], 'failed', '; exit 4)');
  for (const id of [12, 13]) assert.equal(final.get(id)?.status, 'killed');
  for (let id = 1; id <= 20; id++) {
    assert.equal(readFileSync(join(u.work, `runs.${id}`), 'utf8'), 'run\n', `job ${id} ran exactly once`);
  }
  // IDs are never reused: the next job gets 21 even after a restart.
  assert.equal(await u.ok(['sub', 'true']), 'Job 21 received.\n');
});
