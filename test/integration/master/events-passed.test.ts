/**
 * The event log and notifications see every change of a job, also one that
 * passed within a single commit window: a job that failed and was queued
 * again by a retry before its end was written is logged as failed, and its
 * `--notify fail` runs; a change put twice is told once. A real store, event
 * file and notifier command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openJobStore } from '../../../src/store/job-store.js';
import { createCommitter } from '../../../src/store/group-commit.js';
import { withEvents } from '../../../src/daemons/master/events.js';
import { emptyState } from '../../../src/master/state.js';
import { DEFAULT_SETTINGS } from '../../../src/protocol/settings.js';
import type { Job } from '../../../src/protocol/job.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';

test('a failure superseded by a retry within one commit window is still logged and notified, once', async () => {
  await using t = tempDir();
  const heard = join(t.path, 'heard');
  const settings = { ...DEFAULT_SETTINGS, notifyCommand: `echo "$QPY_JOB_ID $QPY_STATUS" >>${heard}` };
  const store = openJobStore(join(t.path, 'master.db'));
  const events = withEvents(store, {
    path: join(t.path, 'events.jsonl'),
    user: 'me',
    state: emptyState(),
    settings: () => settings,
    log: () => undefined,
    now: () => 1_000_000,
  });
  const c = createCommitter(events.store, () => undefined);
  const queued: Job = {
    id: 1,
    spec: { command: 'exit 4', cwd: t.path, cores: 1, memGB: 1, attrs: null, notify: 'fail' },
    queuedAt: 1,
    state: { type: 'queue' },
  };
  const running: Job = { ...queued, state: { type: 'running', node: 'n', startedAt: 2, pid: 10, killRequested: false } };
  const failed: Job = { ...queued, state: { type: 'failed', node: 'n', startedAt: 2, endedAt: 3, outcome: { type: 'exit', code: 4 } } };
  c.putJob(queued, 1);
  await c.flush();
  c.putJob(running, null);
  await c.flush();
  c.putJob(failed, null);
  c.putJob(failed, null);
  c.putJob({ ...queued, queuedAt: 4 }, 'first');
  await c.flush();
  events.close();
  store.close();
  const moves = readFileSync(join(t.path, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { from: string | null; to: string })
    .map((e) => `${e.from}>${e.to}`);
  assert.deepEqual(moves, ['null>queue', 'queue>running', 'running>failed', 'failed>queue']);
  await waitFor(() => existsSync(heard), { what: 'the notification' });
  // The notifier is detached: give a second one time to show up if it were (wrongly) sent.
  const t0 = Date.now();
  await waitFor(() => Date.now() - t0 > 500, { what: 'a moment' });
  assert.equal(readFileSync(heard, 'utf8'), '1 failed\n');
});
