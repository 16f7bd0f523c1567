/** `--json` on check, status and config: one document per call, validated against the protocol's schemas. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qpyUser } from '../helpers/qpy.js';
import { waitFor } from '../helpers/wait.js';
import { jobSchema } from '../../src/protocol/job.js';
import { clusterStatusSchema } from '../../src/protocol/cluster.js';
import { settingsSchema } from '../../src/protocol/settings.js';

test('check, status and config --json: stable documents with "qpy": 1', { timeout: 60_000 }, async () => {
  await using u = qpyUser();
  await u.ok(['sub', 'exit 2']);
  await u.ok(['notes', '1', 'why']);
  await waitFor(async () => /failed/.test(await u.ok(['check'])), { what: 'job 1 ended' });
  const check = JSON.parse(await u.ok(['check', '--json'])) as {
    qpy: number;
    paused: boolean;
    jobs: (Record<string, unknown> & { notes?: string; status?: string })[];
  };
  assert.equal(check.qpy, 1);
  assert.equal(check.paused, false);
  assert.equal(check.jobs.length, 1);
  const { notes, status: shown, ...job } = check.jobs[0]!;
  assert.match(notes ?? '', /\nwhy\n\n$/);
  assert.equal(shown, 'failed', 'each job has the status the lines show');
  const parsed = jobSchema(job, '$');
  assert.deepEqual(parsed.state.type === 'failed' && parsed.state.outcome, { type: 'exit', code: 2 });

  const status = JSON.parse(await u.ok(['status', '--json'])) as Record<string, unknown>;
  assert.equal(status['qpy'], 1);
  assert.equal(typeof status['user'], 'string');
  const { qpy: _q, user: _u, ...cluster } = status;
  assert.equal(clusterStatusSchema(cluster, '$').nodes.length, 1);

  const config = JSON.parse(await u.ok(['config', '--json'])) as { qpy: number; paused: boolean; settings: unknown };
  assert.deepEqual([config.qpy, config.paused], [1, false]);
  assert.equal(settingsSchema(config.settings, '$').checkFMT, '%j%I (%s):%c (on %n; wd: %d%e)\n');
  assert.equal((await u.ok(['check', '--json', '99'])).trim(), '{"qpy":1,"paused":false,"jobs":[]}');
});
