/**
 * The history table in the real SQLite store: the v2 → v3 migration (a
 * released v2 database, test/fixtures/master-v2.db), rows written in the same
 * transaction as the jobs, read a page at a time, pruned in small batches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openJobStore } from '../../../src/store/job-store.js';
import { createCommitter } from '../../../src/store/group-commit.js';
import { SCHEMA_VERSION } from '../../../src/store/schema.js';
import { historyRecordsOf } from '../../../src/master/history.js';
import type { Job } from '../../../src/protocol/job.js';
import { tempDir } from '../../helpers/temp.js';

const done = (id: number, endedAt: number, cwd = '/w'): Job => ({
  id,
  spec: { command: `echo ${id}`, cwd, cores: 1, memGB: 1, attrs: null },
  queuedAt: 1,
  state: { type: 'done', node: 'n1', startedAt: endedAt - 1, endedAt, outcome: { type: 'exit', code: 0 } },
});

test('the released v2 database (test/fixtures/master-v2.db) loads, and its final jobs become history', async () => {
  await using t = tempDir();
  const path = join(t.path, 'master.db');
  copyFileSync(fileURLToPath(new URL('../../../../test/fixtures/master-v2.db', import.meta.url)), path);
  const s = openJobStore(path);
  const loaded = s.load();
  const jobs = [...loaded.jobs].map((j) =>
    'compact' in j ? [j.id, j.compact.endedAt === null ? 'queue' : 'undone'] : [j.id, j.state.type],
  );
  assert.deepEqual(loaded.skipped, []);
  assert.deepEqual(jobs, [
    [1, 'done'],
    [2, 'failed'],
    [3, 'running'],
    [4, 'undone'],
    [5, 'queue'],
    [6, 'queue'],
    [7, 'queue'],
    [8, 'undone'],
    [9, 'undone'],
  ]);
  assert.deepEqual(loaded.queue(), [5, 6, 7]);
  // The whole final jobs are history (compact members unqueued before the upgrade are not: they never ran).
  const rows = s.history.read({ since: null, until: null, after: null, limit: 100 });
  assert.deepEqual(
    rows.map((r) => [r.id, r.last, r.status, r.ended, r.cwd]),
    [
      [1, 1, 'done', 1763700002000, '/home/u/proj'],
      [4, 4, 'undone', 1763700003000, '/home/u/proj'],
      [2, 2, 'failed', 1763700005000, '/home/u/proj'],
    ],
  );
  assert.equal((JSON.parse(rows[2]!.doc) as Job).attempts?.length, 1);
  s.close();
  const db = new Database(path, { readonly: true });
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  db.close();
});

test('history rows commit with the jobs, survive their removal, and read by time window a page at a time', async () => {
  await using t = tempDir();
  const path = join(t.path, 'master.db');
  const store = openJobStore(path);
  const c = createCommitter(store, () => undefined);
  for (let id = 1; id <= 10; id++) {
    const j = done(id, 1000 * id, id % 2 === 0 ? '/even' : '/odd');
    c.putJob(j, null);
    c.putHistory(historyRecordsOf(j));
  }
  await c.flush();
  // Written again (the same run): replaced in place, not doubled.
  c.putHistory(historyRecordsOf(done(3, 3000, '/odd')));
  c.removeRanges([[1, 10]]);
  await c.flush();
  store.close();
  const s = openJobStore(path);
  assert.equal([...s.load().jobs].length, 0);
  const all = s.history.read({ since: null, until: null, after: null, limit: 100 });
  assert.deepEqual(
    all.map((r) => r.id),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  const window = s.history.read({ since: 3000, until: 7000, after: null, limit: 2 });
  assert.deepEqual(
    window.map((r) => r.id),
    [3, 4],
  );
  const next = s.history.read({ since: 3000, until: 7000, after: [window[1]!.ended, window[1]!.seq], limit: 2 });
  assert.deepEqual(
    next.map((r) => r.id),
    [5, 6],
  );
  // Pruning: by age first, then all but the newest by seq, at most `limit` rows per call.
  assert.equal(s.history.prune(2500, null, 100), 2);
  assert.equal(s.history.maxSeq(), 10);
  assert.equal(s.history.prune(0, 6, 2), 2);
  assert.equal(s.history.prune(0, 6, 100), 2);
  assert.deepEqual(
    s.history.read({ since: null, until: null, after: null, limit: 100 }).map((r) => r.id),
    [7, 8, 9, 10],
  );
  s.close();
});

test('a failed write loses the history rows with the jobs: both or neither', async () => {
  await using t = tempDir();
  const store = openJobStore(join(t.path, 'master.db'));
  const c = createCommitter(store, () => undefined);
  const bad = { ...done(1, 1000), spec: undefined } as unknown as Job; // JSON fine, but NOT NULL cwd fails in history
  c.putJob(done(2, 2000), null);
  c.putHistory([{ id: 1, last: 1, status: 'done', ended: 1000, cwd: null as unknown as string, record: bad }]);
  await assert.rejects(c.flush());
  assert.equal([...store.load().jobs].length, 0);
  assert.equal(store.history.read({ since: null, until: null, after: null, limit: 10 }).length, 0);
  store.close();
});
