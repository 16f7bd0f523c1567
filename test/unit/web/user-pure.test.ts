/** The user's page's pure parts: filters from the query string, tokens and sessions, the buttons' requests, the rendering. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilters, filterQuery } from '../../../src/web/user-query.js';
import { TOKEN_TTL_MS, UserAuth, cookieValue, sameSecret } from '../../../src/web/user-auth.js';
import { actionAnswer, actionRequest } from '../../../src/web/user-actions.js';
import { actionsOf, jobsPage, statusText } from '../../../src/web/user-page.js';
import type { Job } from '../../../src/protocol/job.js';

const q = (s: string) => parseFilters(new URLSearchParams(s));

test('filters: status words, ID lists and directories as check takes them; bad ones say why', () => {
  assert.deepEqual(q(''), { ok: true, selector: { statuses: [], dirs: [], ranges: [] } });
  assert.deepEqual(q('status=running,queue&status=running&ids=3,10-14&dir=/w/&ids=&dir='), {
    ok: true,
    selector: {
      statuses: ['running', 'queue'],
      dirs: ['/w'],
      ranges: [
        [3, 3],
        [10, 14],
      ],
    },
  });
  assert.deepEqual(q('ids=3 5'), {
    ok: true,
    selector: {
      statuses: [],
      dirs: [],
      ranges: [
        [3, 3],
        [5, 5],
      ],
    },
  });
  for (const [bad, says] of [
    ['status=runing', /unknown status "runing"/],
    ['ids=3-', /not a list of job IDs/],
    ['ids=0', /not a list of job IDs/],
    ['dir=rel/path', /not an absolute directory/],
    ['sort=id', /unknown parameter "sort"/],
  ] as const) {
    const r = q(bad);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.match(r.message, says);
  }
  const back = q('status=done&ids=2-4&dir=/a');
  assert.ok(back.ok);
  if (back.ok) assert.equal(filterQuery(back.selector), '?status=done&ids=2-4&dir=%2Fa');
});

test('a token opens one session, once, while fresh; the cookie names the port; sessions are found by it alone', () => {
  const a = new UserAuth(4242);
  a.mint('tok', 1000);
  assert.equal(a.redeem('nope', 's0', 'c0', 1000), null);
  const s = a.redeem('tok', 's1', 'c1', 2000);
  assert.deepEqual(s, { id: 's1', csrf: 'c1' });
  assert.equal(a.redeem('tok', 's2', 'c2', 2000), null, 'used twice');
  assert.equal(a.setCookie(s!), 'qpy_user_4242=s1; HttpOnly; SameSite=Strict; Path=/');
  assert.deepEqual(a.session('x=1; qpy_user_4242=s1'), s);
  assert.equal(a.session('qpy_user_4343=s1'), null, "another port's cookie name");
  assert.equal(a.session('qpy_user_4242=s2'), null);
  assert.equal(a.session(undefined), null);
  a.mint('old', 0);
  assert.equal(a.redeem('old', 's3', 'c3', TOKEN_TTL_MS + 1), null, 'too old');
  assert.equal(cookieValue(' a = b ;c=d', 'a'), 'b');
  assert.ok(sameSecret('abc', 'abc'));
  assert.ok(!sameSecret('abc', 'abd') && !sameSecret('abc', 'ab'));
});

test('buttons are the CLI requests: kill, hold, release, retry', () => {
  const r = (s: string) => actionRequest(new URLSearchParams(s));
  assert.deepEqual(r('action=kill&id=7'), {
    ok: true,
    request: { type: 'kill', id: 0, selector: { statuses: [], dirs: [], ranges: [[7, 7]] } },
  });
  assert.deepEqual(r('action=release&id=7'), { ok: true, request: { type: 'hold', id: 0, ranges: [[7, 7]], held: false } });
  assert.deepEqual(r('action=retry&id=7'), { ok: true, request: { type: 'requeue', id: 0, ranges: [[7, 7]], failed: false, any: false } });
  assert.equal(r('action=clean&id=7').ok, false);
  assert.equal(r('action=kill&id=x').ok, false);
  assert.equal(actionAnswer({ type: 'killed', id: 0, unqueued: 0, killing: [7] }, 7), 'Killing job 7.');
  assert.equal(actionAnswer({ type: 'error', id: 0, code: 'NOT_FOUND', message: 'No such job.' }, 7), 'No such job.');
});

const job = (id: number, state: Job['state'], command = 'echo <b>'): Job => ({
  id,
  spec: { command, cwd: '/w', cores: 2, memGB: 1, attrs: null },
  queuedAt: 0,
  state,
});

test('the page: a real table, escaped commands, each row its buttons', () => {
  const jobs = [
    job(1, { type: 'queue', held: true }),
    job(2, { type: 'running', node: 'n1', startedAt: 0, pid: 5, killRequested: false }),
    job(3, {
      type: 'failed',
      node: 'n1',
      startedAt: 0,
      endedAt: 2000,
      outcome: { type: 'exit', code: 3 },
      usage: { userMs: 1000, sysMs: 0 },
    }),
  ];
  assert.deepEqual(jobs.map(actionsOf), [['kill', 'release'], ['kill'], ['retry']]);
  assert.equal(statusText(jobs[0]!), 'queue (held)');
  assert.equal(statusText(jobs[2]!), 'failed (exit 3)');
  const text = jobsPage({
    user: 'ann',
    jobs,
    matched: 3,
    selector: { statuses: [], dirs: [], ranges: [] },
    paused: false,
    pools: [],
    csrf: 'C',
    now: 1000,
  });
  assert.match(text, /<th scope="col">Command<\/th>/);
  assert.match(text, /<code>echo &lt;b&gt;<\/code>/);
  assert.ok(!text.includes('echo <b>'));
  assert.match(text, /data-act="retry" data-job="3"/);
  assert.match(text, /0:00:01\.00 \(25\.0%\)/, 'CPU time and its share of 2 cores × 2 s');
  assert.match(text, /data-csrf="C"/);
});
