/**
 * The SQLite store, for real: one owner at a time, group commit, schema
 * version, and unreadable rows skipped instead of fatal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openJobStore } from '../../../src/store/job-store.js';
import { createCommitter } from '../../../src/store/group-commit.js';
import { SCHEMA_VERSION } from '../../../src/store/schema.js';
import type { Job } from '../../../src/protocol/job.js';
import { QpyError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/temp.js';

const job = (id: number): Job => ({ id, spec: { command: `echo ${id}`, cwd: '/tmp', cores: 1, memGB: 1, attrs: null }, queuedAt: 1000 + id, state: { type: 'queue' } });

test('a second opener is refused while the first holds the store', async () => {
  await using t = tempDir();
  const path = join(t.path, 'master.db');
  const a = openJobStore(path);
  assert.throws(() => openJobStore(path), (e: unknown) => e instanceof QpyError && e.code === 'ALREADY_RUNNING');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  a.close();
  openJobStore(path).close();
});

test('group commit: many writes in one turn share one transaction; everything reloads in order', async () => {
  await using t = tempDir();
  const path = join(t.path, 'master.db');
  const store = openJobStore(path);
  let writes = 0;
  const counting = { ...store, write: (b: Parameters<typeof store.write>[0]) => (writes++, store.write(b)) };
  const c = createCommitter(counting, () => undefined);
  const acks: Promise<void>[] = [];
  for (let id = 1; id <= 100; id++) {
    c.putJob(job(id), 101 - id); // reversed queue order
    acks.push(c.flush());
  }
  c.setMeta('next_id', '101');
  await Promise.all(acks);
  assert.equal(writes, 1);
  c.removeJob(50);
  await c.flush();
  store.close();
  const again = openJobStore(path);
  const loaded = again.load();
  assert.equal([...loaded.jobs].length, 99);
  assert.equal(loaded.queue[0], 100);
  assert.equal(loaded.queue.at(-1), 1);
  assert.equal(loaded.meta.get('next_id'), '101');
  again.close();
  const db = new Database(path);
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  db.close();
});

test('a corrupt row is skipped and reported, not fatal', async () => {
  await using t = tempDir();
  const path = join(t.path, 'master.db');
  const s = openJobStore(path);
  const c = createCommitter(s, () => undefined);
  c.putJob(job(1), 1);
  await c.flush();
  s.close();
  const db = new Database(path);
  db.prepare("INSERT INTO jobs (id, status, pos, doc) VALUES (2, 'queue', 2, '{broken')").run();
  db.close();
  const s2 = openJobStore(path);
  const loaded = s2.load();
  assert.equal([...loaded.jobs].length, 1);
  assert.equal(loaded.skipped.length, 1);
  s2.close();
});

test('the released v1 database (test/fixtures/master-v1.db) still loads', async () => {
  await using t = tempDir();
  const { copyFileSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const fixture = fileURLToPath(new URL('../../../../test/fixtures/master-v1.db', import.meta.url));
  const path = join(t.path, 'master.db');
  copyFileSync(fixture, path);
  const s = openJobStore(path);
  const loaded = s.load();
  const jobs = [...loaded.jobs]; // read as walked: before the store closes
  s.close();
  assert.deepEqual(loaded.skipped, []);
  assert.deepEqual(jobs.map((j) => [j.id, j.state.type]), [[1, 'done'], [2, 'running'], [3, 'queue'], [4, 'failed']]);
  assert.deepEqual(loaded.queue, [3]);
  assert.equal(loaded.meta.get('next_id'), '5');
  const j2 = jobs[1]!;
  assert.equal(j2.spec.attrs, 'big and not gpu');
  assert.deepEqual(j2.state, { type: 'running', node: 'node1', startedAt: 1763700001500, pid: 4242, killRequested: false });
});

test('flushSoon gathers changes for a few milliseconds; flush commits at once', async () => {
  await using t = tempDir();
  const store = openJobStore(join(t.path, 'master.db'));
  let writes = 0;
  const counting = { ...store, write: (b: Parameters<typeof store.write>[0]) => (writes++, store.write(b)) };
  const c = createCommitter(counting, () => undefined, 500); // a wide window: a loaded machine may stall the five turns below
  const soon: Promise<void>[] = [];
  for (let id = 1; id <= 5; id++) {
    c.putJob(job(id), id);
    soon.push(c.flushSoon());
    await new Promise((r) => setImmediate(r)); // separate turns of the event loop
  }
  assert.equal(writes, 0, 'nothing written before the lazy window closes');
  await Promise.all(soon);
  assert.equal(writes, 1, 'five changes from five turns, one transaction');
  c.putJob(job(6), 6);
  await c.flush();
  assert.equal(writes, 2);
  assert.equal([...store.load().jobs].length, 6);
  store.close();
});
