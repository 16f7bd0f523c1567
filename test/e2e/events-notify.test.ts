/**
 * The event log ($QPY_DIR/events.jsonl) and notifications (`sub --notify`,
 * notifyCommand, notifyMail) with a real master: every status change a
 * line of JSON, rotation at a small size, a notifier that receives the
 * status, one that fails or hangs without harm, a fake sendmail on PATH.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkStatuses, qpyUser, type QpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';

interface Line {
  v: number;
  job: number;
  last?: number;
  from: string | null;
  to: string;
  node?: string;
  exit?: number;
  group?: number;
}

/** Every line of the event log and its rotated files, oldest first, each parsed (a line that is not JSON fails the test). */
function eventLines(u: QpyUser): Line[] {
  const files = ['events.jsonl.3', 'events.jsonl.2', 'events.jsonl.1', 'events.jsonl'].map((f) => join(u.qpyDir, f));
  return files.flatMap((f) =>
    existsSync(f)
      ? readFileSync(f, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Line)
      : [],
  );
}

const movesOf = (lines: Line[], id: number) =>
  lines.filter((l) => l.job === id || (l.last !== undefined && l.job <= id && id <= l.last)).map((l) => `${l.from}>${l.to}`);

async function allFinal(u: QpyUser, n: number): Promise<boolean> {
  const m = checkStatuses(await u.ok(['check']));
  return m.size === n && [...m.values()].every((j) => !['queue', 'starting', 'running'].includes(j.status));
}

test('events.jsonl: submit, start and end of every job, one JSON line each; an array submitted and killed in one line each', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser();
  await u.ok(['sub', 'true']); // 1
  await u.ok(['sub', 'exit 3']); // 2
  await u.ok(['sub', '--array', '1-3', 'true']); // 3-5
  await waitFor(() => allFinal(u, 5), { what: 'five jobs final' });
  await u.ok(['ctrlQueue', 'pause']);
  await u.ok(['sub', '--array', '1-1000', 'true']); // 6-1005, held back by the pause
  await u.ok(['kill', '6-1005']);
  await waitFor(() => movesOf(eventLines(u), 1005).includes('queue>undone'), { what: 'the array unqueued, logged' });
  await waitFor(() => movesOf(eventLines(u), 5).includes('running>done'), { what: 'the last end logged' });
  const lines = eventLines(u);
  for (const l of lines) assert.equal(l.v, 1);
  assert.deepEqual(movesOf(lines, 1), ['null>queue', 'queue>running', 'running>done']);
  assert.deepEqual(movesOf(lines, 2), ['null>queue', 'queue>running', 'running>failed']);
  assert.equal(lines.find((l) => l.job === 2 && l.to === 'failed')?.exit, 3);
  assert.equal(lines.find((l) => l.job === 2 && l.to === 'running')?.node, 'localhost');
  assert.deepEqual(movesOf(lines, 4), ['null>queue', 'queue>running', 'running>done']);
  assert.equal(lines.find((l) => l.job === 4 && l.to === 'done')?.group, 3);
  // A thousand jobs submitted and killed: two lines.
  assert.deepEqual(
    lines.filter((l) => l.job >= 6).map((l) => [l.job, l.last, l.to]),
    [
      [6, 1005, 'queue'],
      [6, 1005, 'undone'],
    ],
  );
});

test('a master SIGKILLed and restarted: the running job is not logged as started again, its end is logged once', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser();
  await u.ok(['sub', 'sleep 1']); // 1
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(1)?.status === 'running', { what: 'job 1 running' });
  await waitFor(() => movesOf(eventLines(u), 1).includes('queue>running'), { what: 'its start logged' });
  u.killMaster();
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(1)?.status === 'done', { what: 'job 1 done under a new master' });
  await waitFor(() => movesOf(eventLines(u), 1).includes('running>done'), { what: 'its end logged' });
  assert.deepEqual(movesOf(eventLines(u), 1), ['null>queue', 'queue>running', 'running>done']);
});

test('events.jsonl is rotated at its size: events.jsonl.1 and on, every line whole', { timeout: 60_000 }, async () => {
  await using u = qpyUser({ env: { QPY_EVENTS_MAX_BYTES: '3000' } });
  await u.ok(['sub', '--array', '1-40', 'true']);
  await waitFor(() => allFinal(u, 40), { what: 'forty jobs final', timeoutMs: 30_000 });
  await waitFor(() => movesOf(eventLines(u), 40).includes('running>done'), { what: 'the last end logged' });
  assert.ok(existsSync(join(u.qpyDir, 'events.jsonl.1')));
  assert.ok(!existsSync(join(u.qpyDir, 'events.jsonl.4')), 'three rotated files kept at most');
  for (const f of ['events.jsonl', 'events.jsonl.1']) assert.ok(readFileSync(join(u.qpyDir, f)).length <= 3000, f);
  eventLines(u); // every line parses
});

test('a notifier command receives the status and the job’s QPY_* variables, for end, fail and all', { timeout: 60_000 }, async () => {
  await using u = qpyUser();
  const script = join(u.home, 'tell.sh');
  const heard = join(u.home, 'heard');
  writeFileSync(script, `#!/bin/sh\necho "$QPY_JOB_ID $QPY_STATUS \${QPY_EXIT_CODE:--} $QPY_N_CORES $(pwd)" >> ${heard}\n`);
  chmodSync(script, 0o755);
  const none = await u.qpy(['sub', '--notify', 'end', 'true']);
  assert.deepEqual([none.code, none.stderr.split('\n').length], [1, 2]);
  assert.match(none.stderr, /^qpy: --notify needs a notifier/);
  await u.ok(['config', 'notifyCommand', script]);
  await u.ok(['sub', '--notify', 'end', 'true']); // 1: done
  await u.ok(['sub', '--notify', 'fail', 'true']); // 2: done, not told
  await u.ok(['sub', '--notify', 'fail', 'exit 4']); // 3: failed
  writeFileSync(join(u.work, 'job.sh'), '#!/bin/sh\n#QPY notify=all\nexit 0\n');
  chmodSync(join(u.work, 'job.sh'), 0o755);
  await u.ok(['sub', './job.sh']); // 4: running and done
  await waitFor(() => existsSync(heard) && readFileSync(heard, 'utf8').split('\n').length === 5, { what: 'four notifications' });
  const got = readFileSync(heard, 'utf8').trim().split('\n').sort();
  assert.deepEqual(got, [`1 done 0 1 ${u.work}`, `3 failed 4 1 ${u.work}`, `4 done 0 1 ${u.work}`, `4 running - 1 ${u.work}`]);
  const bad = await u.qpy(['sub', '--notify', 'sometimes', 'true']);
  assert.deepEqual([bad.code, bad.stderr], [1, "qpy: --notify takes end, fail, all, not 'sometimes'\n"]);
});

test('a notifier that fails or hangs changes nothing for the job or the master; it is killed at its time limit', {
  timeout: 60_000,
}, async () => {
  await using u = qpyUser({ env: { QPY_NOTIFY_TIMEOUT_MS: '500' } });
  await u.ok(['config', 'notifyCommand', 'echo oops >&2; exit 7']);
  await u.ok(['sub', '--notify', 'end', 'true']); // 1
  await waitFor(() => /notify job 1 done, notifyCommand: exit 7; stderr: oops/.test(readFileSync(join(u.qpyDir, 'master.log'), 'utf8')), {
    what: 'the failure logged',
  });
  await u.ok(['config', 'notifyCommand', `sleep 30; touch ${join(u.home, 'late')}`]);
  await u.ok(['sub', '--notify', 'end', 'true']); // 2
  await u.ok(['sub', 'true']); // 3: the master goes on meanwhile
  await waitFor(async () => checkStatuses(await u.ok(['check'])).get(3)?.status === 'done', { what: 'job 3 done' });
  await waitFor(
    () => /notify job 2 done, notifyCommand: no end after 500 ms: killed/.test(readFileSync(join(u.qpyDir, 'master.log'), 'utf8')),
    {
      what: 'the hang killed',
    },
  );
  const m = checkStatuses(await u.ok(['check']));
  assert.deepEqual([m.get(1)?.status, m.get(2)?.status], ['done', 'done']);
  assert.ok(!existsSync(join(u.home, 'late')), 'the hanging notifier was killed, its whole group');
});

test('notifyMail: the mail goes through the local sendmail -t; without one, notifyMail is refused in one line', {
  timeout: 60_000,
}, async (t) => {
  const bin = join(process.env['TMPDIR'] ?? '/tmp', `qpy-fake-sendmail-${process.pid}`);
  mkdirSync(bin, { recursive: true });
  const mailbox = join(bin, 'mailbox');
  writeFileSync(join(bin, 'sendmail'), `#!/bin/sh\n{ echo "ARGS $*"; cat; } >> ${mailbox}\n`);
  chmodSync(join(bin, 'sendmail'), 0o755);
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  {
    await using u = qpyUser({ env: { PATH: `${bin}:${process.env['PATH']}` } });
    assert.equal(await u.ok(['config', 'notifyMail', 'me@example.org']), 'notifyMail set to me@example.org.\n');
    await u.ok(['sub', '--notify', 'fail', 'exit 2']); // 1
    await waitFor(() => existsSync(mailbox) && readFileSync(mailbox, 'utf8').includes('exit 2'), { what: 'the mail' });
    const mail = readFileSync(mailbox, 'utf8');
    assert.match(mail, /^ARGS -t\nTo: me@example.org\nSubject: qpy: job 1 failed\n/);
    assert.match(mail, /\n1 \(failed\): exit 2 \(on localhost; wd: .*; exit 2\)\n/);
  }
  if (!existsSync('/usr/sbin/sendmail') && !existsSync('/usr/lib/sendmail')) {
    await using u = qpyUser({ env: { PATH: '/usr/bin:/bin' } });
    const r = await u.qpy(['config', 'notifyMail', 'me@example.org']);
    assert.deepEqual(
      [r.code, r.stderr.split('\n')[0]],
      [1, 'qpy: notifyMail needs a local sendmail, and none was found (in PATH, /usr/sbin, /usr/lib) (see the settings with: qpy config)'],
    );
  }
});
