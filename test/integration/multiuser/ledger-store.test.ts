/**
 * The ledger in qpy-multiuser's store: a store from before the ledger
 * (schema version 0) gains it at start, with a row opened for each slot it
 * holds; rows released longer ago than the retention are pruned, open ones
 * never; a store from a newer qpy is refused; a report read while slots
 * are released counts each once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { testMultiuser } from '../../helpers/multiuser.js';
import { openAllocatorStore } from '../../../src/store/allocator-store.js';
import { ALLOCATOR_SCHEMA_VERSION } from '../../../src/store/allocator-ledger.js';
import { tempDir } from '../../helpers/temp.js';
import { join } from 'node:path';
import { createAllocator } from '../../../src/allocator/state.js';
import { DEFAULT_RULES } from '../../../src/allocator/rules.js';
import { makeReport } from '../../../src/daemons/multiuser/ledger.js';
import type { MultiuserContext } from '../../../src/daemons/multiuser/context.js';

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
  // Read in parts: the held rows first, then the released ones by release, two at a time.
  const show = (rows: { jobId: number; releasedAt: number | null }[]) =>
    rows.map((r) => [r.jobId, r.releasedAt === null ? null : r.releasedAt / day]);
  const held = store.ledgerPage(null, -1, 2);
  assert.deepEqual(show(held.rows), [[3, null]]);
  const first = store.ledgerPage(held.next, -1, 2);
  assert.deepEqual(show(first.rows), [
    [2, 5],
    [3, 6],
  ]);
  assert.deepEqual(store.ledgerPage(first.next, -1, 2), { rows: [], next: null }, 'the next part goes on after the last row read');
  assert.deepEqual(
    show(store.ledgerPage(store.ledgerPage(null, 5.5 * day, 9).next, 5.5 * day, 9).rows),
    [[3, 6]],
    'after the held rows: only those released after the period’s start',
  );
  store.close();
  const db = new Database(path);
  db.pragma(`user_version = ${ALLOCATOR_SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(() => openAllocatorStore(path), /newer than this qpy-multiuser/);
});

test('a report counts a slot released while it reads the ledger once, up to the report’s now', async () => {
  await using dir = tempDir('qpy-ledger-');
  const store = openAllocatorStore(join(dir.path, 'multiuser.db'));
  const H = 3_600_000;
  store.openGrant({ user: 'u', jobId: 1, node: 'n1', cores: 2, memGB: 1, grantedAt: 0 });
  await store.commit();
  const state = createAllocator([], DEFAULT_RULES);
  const ctx = { store, state, now: () => 1 * H } as unknown as MultiuserContext;
  const report = makeReport(ctx, null, null);
  // Released after the report read it as held, before it reads the released rows.
  store.closeGrant('u', 1, 1 * H + 1000, 'release', 'done');
  const r = await report;
  store.close();
  assert.deepEqual(
    r.users.map((u) => [u.name, u.coreHours, u.jobs]),
    [['u', 2, 1]],
  );
});
