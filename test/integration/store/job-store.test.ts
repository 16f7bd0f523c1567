/**
 * The SQLite store, for real: one owner at a time, group commit, schema
 * version, and unreadable rows skipped instead of fatal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openJobStore, type Batch } from '../../../src/store/job-store.js';
import { createCommitter } from '../../../src/store/group-commit.js';
import { SCHEMA_VERSION } from '../../../src/store/schema.js';
import type { Job } from '../../../src/protocol/job.js';
import { QpyError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/temp.js';

const job = (id: number): Job => ({
  id,
  spec: { command: `echo ${id}`, cwd: '/tmp', cores: 1, memGB: 1, attrs: null },
  queuedAt: 1000 + id,
  state: { type: 'queue' },
});

test('a second opener is refused while the first holds the store', async () => {
  await using t = tempDir();
  const path = join(t.path, 'master.db');
  const a = openJobStore(path);
  assert.throws(
    () => openJobStore(path),
    (e: unknown) => e instanceof QpyError && e.code === 'ALREADY_RUNNING',
  );
  assert.equal(statSync(path).mode & 0o777, 0o600);
  a.close();
  openJobStore(path).close();
});

test('group commit: many writes in one turn share one transaction; everything reloads in order', async () => {
  await using t = tempDir();
  const path = join(t.path, 'master.db');
  const store = openJobStore(path);
  let writes = 0;
  const counting = {
    ...store,
    write: (b: Parameters<typeof store.write>[0]) => {
      writes++;
      return store.write(b);
    },
  };
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
  assert.equal(loaded.queue()[0], 100);
  assert.equal(loaded.queue().at(-1), 1);
  assert.equal(loaded.meta.get('next_id'), '101');
  again.close();
  const db = new Database(path);
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  db.close();
});

test("put 'first': before every queued job as stored (a jump's 0-based positions too), in the order put; the rest is not rewritten", async () => {
  await using t = tempDir();
  const path = join(t.path, 'master.db');
  const store = openJobStore(path);
  const c = createCommitter(store, () => undefined);
  for (let id = 1; id <= 5; id++) c.putJob(job(id), id - 1); // positions 0..4, as after a jump
  await c.flush();
  let writes = 0;
  const counting = {
    ...store,
    write: (b: Parameters<typeof store.write>[0]) => {
      writes += b.put.size;
      return store.write(b);
    },
  };
  const c2 = createCommitter(counting, () => undefined);
  c2.putJob(job(8), 'first');
  c2.putJob(job(7), 'first');
  await c2.flush();
  assert.equal(writes, 2);
  store.close();
  const again = openJobStore(path);
  assert.deepEqual(again.load().queue(), [8, 7, 1, 2, 3, 4, 5]);
  again.close();
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
  const jobs = [...loaded.jobs].map((j) => ('compact' in j ? assert.fail('a v1 store has no compact rows') : j)); // read as walked: before the store closes
  const queue = loaded.queue();
  s.close();
  assert.deepEqual(loaded.skipped, []);
  assert.deepEqual(
    jobs.map((j) => [j.id, j.state.type]),
    [
      [1, 'done'],
      [2, 'running'],
      [3, 'queue'],
      [4, 'failed'],
    ],
  );
  assert.deepEqual(queue, [3]);
  assert.equal(loaded.meta.get('next_id'), '5');
  const j2 = jobs[1]!;
  assert.equal(j2.spec.attrs, 'big and not gpu');
  assert.deepEqual(j2.state, { type: 'running', node: 'node1', startedAt: 1763700001500, pid: 4242, killRequested: false });
});

test('flushSoon gathers changes for a few milliseconds; flush commits at once', async () => {
  await using t = tempDir();
  const store = openJobStore(join(t.path, 'master.db'));
  let writes = 0;
  const counting = {
    ...store,
    write: (b: Parameters<typeof store.write>[0]) => {
      writes++;
      return store.write(b);
    },
  };
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

test('compact rows: written from their group template, unqueued and removed by runs of IDs, read back as compact; unused templates go', async () => {
  await using t = tempDir();
  const path = join(t.path, 'master.db');
  const store = openJobStore(path);
  const c = createCommitter(store, () => undefined);
  const spec = {
    command: 'run $QPY_ARRAY_INDEX',
    cwd: '/w',
    cores: 1,
    memGB: 1,
    attrs: null,
    group: { id: 1, index: 5, kind: 'array' as const },
  };
  c.putGroup(1, { spec, queuedAt: 7 });
  // Jobs 1-6: compact members but 3, written whole (a member held, say); 7: a job of its own.
  const whole: Job = { id: 3, spec: { ...spec, group: { ...spec.group, index: 7 } }, queuedAt: 7, state: { type: 'queue' } };
  c.putRange(1, 6, (id) =>
    id === 3 ? { job: whole, pos: 3 } : { compact: { group: 1, command: null, endedAt: null }, status: 'queue', pos: id },
  );
  c.putJob(job(7), 7);
  await c.flush();
  c.unqueueRange(2, 4, 99); // 2 and 4 compact, 3 whole
  c.removeRanges([[6, 6]]);
  await c.flush();
  store.close();
  const again = openJobStore(path);
  const loaded = again.load();
  const rows = [...loaded.jobs];
  assert.deepEqual(loaded.queue(), [1, 5, 7]);
  assert.deepEqual(loaded.skipped, []);
  const shape = rows.map((r) => ('compact' in r ? [r.id, r.compact.endedAt, r.template.spec.group.index] : [r.id, r.state]));
  assert.deepEqual(shape, [
    [1, null, 5],
    [2, 99, 5],
    [3, { type: 'undone', endedAt: 99 }],
    [4, 99, 5],
    [5, null, 5],
    [7, { type: 'queue' }],
  ]);
  const c2 = createCommitter(again, () => undefined);
  c2.removeRanges([[1, 5]]);
  await c2.flush();
  again.close();
  const third = openJobStore(path);
  assert.deepEqual(
    [...third.load().jobs].map((r) => r.id),
    [7],
  );
  third.close();
  const db = new Database(path);
  assert.deepEqual(db.prepare('SELECT id FROM groups').all(), [], 'the template no row follows went at the load');
  db.close();
});

test('a compact row whose template is missing is skipped and reported', async () => {
  await using t = tempDir();
  const path = join(t.path, 'master.db');
  openJobStore(path).close();
  const db = new Database(path);
  db.prepare("INSERT INTO jobs (id, status, pos, doc, grp) VALUES (1, 'queue', 1, '', 9)").run();
  db.close();
  const s = openJobStore(path);
  const loaded = s.load();
  assert.equal([...loaded.jobs].length, 0);
  assert.deepEqual(loaded.skipped, ['job row 1: its group 9 is missing or unreadable']);
  s.close();
});

test('a job put again within one commit window: only the last version is written, the earlier ones are passed to the readers of the batch', async () => {
  await using t = tempDir();
  const store = openJobStore(join(t.path, 'master.db'));
  const seen: string[][] = [];
  const watching = {
    ...store,
    write: (b: Batch) => {
      seen.push(b.passed.map((j) => `${j.id} ${j.state.type}`));
      return store.write(b);
    },
  };
  const c = createCommitter(watching, () => undefined);
  const failed: Job = { ...job(1), state: { type: 'failed', node: 'n', startedAt: 1, endedAt: 2, outcome: { type: 'exit', code: 4 } } };
  c.putJob(job(1), 1);
  c.putJob(failed, null);
  c.putJob(job(1), 'first'); // queued again by a retry
  c.putJob(job(2), 2);
  await c.flush();
  assert.deepEqual(seen, [['1 queue', '1 failed']]);
  store.close();
  const again = openJobStore(join(t.path, 'master.db'));
  assert.deepEqual(
    [...again.load().jobs].map((j) => [j.id, 'state' in j ? j.state.type : 'compact']),
    [
      [1, 'queue'],
      [2, 'queue'],
    ],
  );
  again.close();
});
