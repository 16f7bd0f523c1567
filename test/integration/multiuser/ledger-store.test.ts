/**
 * The ledger in qpy-multiuser's store: a store from before the ledger
 * (schema version 0) gains it at start, with a row opened for each slot it
 * holds; rows released longer ago than the retention are pruned, open ones
 * never; a store from a newer qpy is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { testMultiuser } from '../../helpers/multiuser.js';
import { openAllocatorStore } from '../../../src/store/allocator-store.js';
import { ALLOCATOR_SCHEMA_VERSION } from '../../../src/store/allocator-ledger.js';
import { tempDir } from '../../helpers/temp.js';
import { join } from 'node:path';

test('a store from before the ledger gains it at start, with an open row for each slot it held', async () => {
  await using mu = testMultiuser({ nodes: 'n1 address=localhost cores=4 memory=16\n', users: ['alice'], env: { QPY_PROBE_MS: '0' } });
  const old = openAllocatorStore(mu.paths.db);
  old.putUser('alice', false);
  old.putSlot({ user: 'alice', jobId: 3, node: 'n1', cores: 2, memGB: 1 });
  await old.commit();
  old.close();
  const db = new Database(mu.paths.db);
  db.exec('DROP TABLE ledger; PRAGMA user_version = 0;');
  db.close();

  const started = Date.now();
  assert.equal((await mu.start()).code, 0);
  assert.match(mu.log(), /ledger: opened 1 row\(s\) for slots it lacked, closed 0 row\(s\) without a slot/);
  const admin = await mu.admin();
  const r = await admin.request({ type: 'report', since: null, until: null });
  assert.equal(r.type, 'report');
  if (r.type !== 'report') return;
  assert.deepEqual(
    r.report.users.map((u) => [u.name, u.jobs]),
    [['alice', 1]],
  );
  assert.ok(r.report.users[0]!.coreHours <= (2 * (Date.now() - started)) / 3_600_000, 'counted from the start, not before');
});

test('pruning: rows released before the cut go, open and later ones stay; a newer store is refused', async () => {
  await using dir = tempDir('qpy-ledger-');
  const path = join(dir.path, 'multiuser.db');
  const store = openAllocatorStore(path);
  const day = 86_400_000;
  const grant = (jobId: number, at: number) => store.openGrant({ user: 'u', jobId, node: 'n1', cores: 1, memGB: 1, grantedAt: at });
  grant(1, 0);
  store.closeGrant('u', 1, 1 * day, 'release', 'done');
  grant(2, 0);
  store.closeGrant('u', 2, 5 * day, 'release', 'failed');
  grant(3, 0); // still held
  store.closeGrant('u', 3, 6 * day, 'release', 'done');
  grant(3, 7 * day); // the same job again, held now
  store.closeGrant('u', 9, 8 * day, 'release', 'done'); // no such row: nothing happens
  assert.equal(await store.pruneLedger(2 * day), 1);
  assert.deepEqual(
    store.ledgerPage(0, -1, 100 * day, 10).rows.map((r) => [r.jobId, r.releasedAt === null ? null : r.releasedAt / day]),
    [
      [2, 5],
      [3, 6],
      [3, null],
    ],
  );
  const page = store.ledgerPage(0, -1, 100 * day, 2);
  assert.equal(page.rows.length, 2);
  assert.deepEqual(
    store.ledgerPage(page.next!, -1, 100 * day, 2).rows.map((r) => r.releasedAt),
    [null],
    'the next part goes on after the last row read',
  );
  store.close();
  const db = new Database(path);
  db.pragma(`user_version = ${ALLOCATOR_SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => openAllocatorStore(path), /newer than this qpy-multiuser/);
});
