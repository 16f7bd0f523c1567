/**
 * The qpy-master executable itself: it detaches (returns at once, holds no
 * stdio of its launcher), exactly one runs per QPY_DIR, and stopping it
 * leaves running jobs alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { QPY_MASTER, qpyUser, run } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';
import { pidAlive } from '../../src/discovery.js';

test('qpy-master detaches, refuses a second instance, and keeps jobs across finish', { timeout: 60_000 }, async () => {
  await using u = qpyUser();
  // execFile resolves only once stdout/stderr close: a master that held them would hang this.
  const first = await run(QPY_MASTER, [], u.work, u.env);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^qpy-master started \(pid \d+/);
  const pid = u.masterPid()!;
  assert.ok(pidAlive(pid));

  const second = await run(QPY_MASTER, [], u.work, u.env);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /another qpy-master is already running/);
  assert.equal(second.stderr.trimEnd().split('\n').length <= 2, true);
  assert.equal(u.masterPid(), pid);

  // Private files.
  assert.equal(statSync(u.qpyDir).mode & 0o777, 0o700);
  assert.equal(statSync(join(u.qpyDir, 'master.key')).mode & 0o777, 0o600);
  assert.equal(statSync(join(u.qpyDir, 'master.db')).mode & 0o777, 0o600);

  // A running job survives `qpy finish` and is adopted by the next master.
  await u.ok(['sub', 'while [ ! -e go ]; do sleep 0.05; done; exit 7']);
  await waitFor(async () => /\(running\)/.test(await u.ok(['check'])), { what: 'job running' });
  assert.match(await u.ok(['finish']), /^qpy-master stopped\. 1 job keeps running\.\n$/);
  assert.equal(pidAlive(pid), false);
  assert.equal(u.masterPid(), null, 'discovery file removed');
  readFileSync(join(u.work, 'job_1.out'));
  assert.match(await u.ok(['restart']), /qpy-master started/);
  assert.match(await u.ok(['check']), /1 \(running\)/);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(u.work, 'go'), '');
  await waitFor(async () => /1 \(failed\).*exit 7\)/.test(await u.ok(['check'])), { what: 'job 1 failed with exit 7' });
  const finish = await u.qpy(['finish']);
  assert.equal(finish.code, 0);
  const again = await u.qpy(['finish']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /qpy-master is not running/);
});

test('CLIs started at the same moment with no master: one master starts, every request is answered', { timeout: 120_000 }, async () => {
  // Each round is a fresh directory: the key file and the store are made by whichever master comes first.
  // The second CLI starts a little later each round, to meet the first master at each step of its start.
  for (let round = 0; round < 6; round++) {
    await using u = qpyUser();
    const sub = u.qpy(['sub', '-m', '0', 'true']);
    await delay(round * 20);
    const [s, c] = await Promise.all([sub, u.qpy(['check'])]);
    assert.deepEqual([s.code, s.stderr, s.stdout], [0, '', 'Job 1 received.\n'], `round ${round}`);
    assert.deepEqual([c.code, c.stderr], [0, ''], `round ${round}`);
    const log = readFileSync(join(u.qpyDir, 'master.log'), 'utf8');
    assert.equal(log.match(/ started: pid /g)?.length, 1, log);
  }
});
