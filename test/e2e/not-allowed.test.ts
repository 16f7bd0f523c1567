/**
 * A user the shared qpy-multiuser no longer allows (issue 12, item 4), with a
 * real daemon and qpy-admin: once the master has heard NOT_ALLOWED (to a
 * request while its jobs still run, or at the handshake once forgotten),
 * `qpy sub` and `qpy load` fail with one clear line, `check` says why the
 * queued jobs wait, and `why` says "not allowed"; allowed again, the queued
 * jobs run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkStatuses, QPY, run } from '../helpers/qpy.js';
import { admin, invitation, joinedUser, testMultiuser } from '../helpers/multiuser.js';
import { waitFor } from '../helpers/wait.js';

test('a removed user: sub and load refused with the reason, check and why say so; allowed again, the queued job runs', {
  timeout: 120_000,
}, async () => {
  await using mu = testMultiuser({ nodes: 'n1 address=localhost cores=1 memory=16\n', env: { QPY_PROBE_MS: '0' } });
  await admin(mu, ['start']);
  await using bob = await joinedUser(mu, 'bob');
  await bob.ok(['sub', '-m', '1', 'sleep 300']); // 1: holds the only core
  await waitFor(async () => checkStatuses(await bob.ok(['check'])).get(1)?.status === 'running', { what: 'job 1 running' });
  await bob.ok(['sub', '-m', '1', 'echo two']); // 2: waits for the core
  assert.match(await admin(mu, ['users', 'remove', 'bob']), /^User bob removed/m);

  // Still holding a slot (its job runs on): the daemon answers its requests NOT_ALLOWED.
  await bob.ok(['kill', '1']); // ends: the next pass asks for job 2
  const why = await waitFor(
    async () => {
      const text = await bob.ok(['why', '2']);
      return /not allowed|does not accept your key/.test(text) ? text : null;
    },
    { what: 'why says bob is not allowed', timeoutMs: 20_000 },
  );
  assert.match(why, /^Job 2 cannot start: /);
  assert.doesNotMatch(why, /about to be asked for/);

  const sub = await bob.qpy(['sub', 'echo three']);
  assert.equal(sub.code, 1);
  assert.equal(sub.stdout, '', 'no "Job N received."');
  assert.match(
    sub.stderr,
    /^qpy: job refused: .*(not allowed|removed by the administrator|does not accept your key).* \(ask your qpy administrator.*\)\n$/,
  );
  assert.equal(sub.stderr.split('\n').length, 2, 'one line');
  writeFileSync(join(bob.work, 'jobs.txt'), 'echo a\necho b\n');
  const load = await bob.qpy(['load', 'jobs.txt']);
  assert.equal(load.code, 1);
  assert.match(load.stderr, /^qpy: job refused: /);

  const check = await bob.ok(['check']);
  assert.equal(checkStatuses(check).get(2)?.status, 'queue', 'the format of the job lines is kept');
  assert.match(check, /^Queued jobs cannot start: .*\(ask your qpy administrator.*\)\.$/m);
  const json = JSON.parse(await bob.ok(['check', '--json'])) as { notice?: string };
  assert.match(json.notice ?? '', /^Queued jobs cannot start: /);

  // Allowed again (a new invitation): the queued job runs, and sub works again.
  const { hostPort, code } = invitation(await admin(mu, ['users', 'add', 'bob']));
  const joined = await run(QPY, ['join', hostPort], bob.work, bob.env, `${code}\n`);
  assert.equal(joined.code, 0, joined.stderr);
  await waitFor(async () => checkStatuses(await bob.ok(['check'])).get(2)?.status === 'done', {
    what: 'job 2 runs once bob is allowed again',
    timeoutMs: 30_000,
  });
  assert.doesNotMatch(await bob.ok(['check']), /cannot start/);
  assert.match(await bob.ok(['sub', 'echo four']), /^Job \d+ received\./);
});
