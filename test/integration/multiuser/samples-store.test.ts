/**
 * The cluster page's utilisation series in qpy-multiuser's store (issue
 * 17): samples written are read back after a reopen, by level and from a
 * time on, pruned by level; a store of schema version 2 gains the table;
 * and the daemon samples at QPY_WEB_SAMPLE_MS, into the store, and after a
 * SIGKILL and a restart its page still plots the samples taken before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openAllocatorStore } from '../../../src/store/allocator-store.js';
import { admin, testMultiuser } from '../../helpers/multiuser.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';

test('samples are kept by level, read back from a time on, pruned by level; a version 2 store gains the table', async () => {
  await using tmp = tempDir();
  const path = join(tmp.path, 'multiuser.db');
  const s = openAllocatorStore(path);
  s.close();
  const db = new Database(path);
  db.exec('DROP TABLE samples; PRAGMA user_version = 2;');
  db.close();
  const store = openAllocatorStore(path);
  for (let at = 1000; at <= 5000; at += 1000) store.putSample(0, { at, total: 8, outsiders: 1, users: { ann: at / 1000 } });
  store.putSample(1, { at: 5000, total: 8, outsiders: 0.5, users: { ann: 2.5 } });
  store.pruneSamples(0, 2000);
  await store.commit();
  store.close();
  const again = openAllocatorStore(path);
  assert.deepEqual(
    again.loadSamples(0, 3000).map((x) => [x.at, x.users['ann']]),
    [
      [3000, 3],
      [4000, 4],
      [5000, 5],
    ],
  );
  assert.equal(again.loadSamples(0, 0).length, 4);
  assert.deepEqual(again.loadSamples(1, 0), [{ at: 5000, total: 8, outsiders: 0.5, users: { ann: 2.5 } }]);
  again.close();
});

test('the daemon samples into its store; after a SIGKILL and a restart the page plots the samples from before', async () => {
  await using mu = testMultiuser({
    nodes: 'n1 address=localhost cores=4 memory=16\n',
    env: { QPY_PROBE_MS: '0', QPY_WEB_SAMPLE_MS: '50' },
  });
  await admin(mu, ['start']);
  const served = async () => /served at (\S+)/.exec(await admin(mu, ['web', 'on', '127.0.0.1:0']))![1]!;
  const plotted = async (url: string) =>
    Number(/<figure id="plot-hour" data-points="\d+" data-samples="(\d+)"/.exec(await (await fetch(url)).text())![1]);
  const url = await served();
  await waitFor(async () => (await plotted(url)) >= 35, { what: '35 samples plotted' });
  await mu.kill();
  // The store is the daemon's alone while it runs (locked): read it now.
  const db = new Database(mu.paths.db, { readonly: true });
  const count = (level: number) => (db.prepare('SELECT COUNT(*) AS n FROM samples WHERE level = ?').get(level) as { n: number }).n;
  const before = count(0);
  assert.ok(before >= 35, `${before} samples stored`);
  assert.ok(count(1) >= 1, 'a coarse point stored');
  db.close();
  await admin(mu, ['start']);
  const samples = await plotted(await served());
  assert.ok(samples >= before, `${samples} samples plotted, ${before} stored before the restart`);
});
