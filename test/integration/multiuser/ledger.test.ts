/**
 * qpy-multiuser's ledger and `report`, against a real daemon and masters
 * speaking the protocol: a slot counts from its grant to its release by the
 * daemon's clock (bounded by what the test saw on the wire), a repeated
 * request opens no second row, the master's `ended` counts failures, and a
 * SIGKILL of the daemon neither loses nor doubles a row: a slot held across
 * it stays one open row, closed once when released after the restart, and a
 * slot its master no longer reports is closed at the registration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testMultiuser, type TestMultiuser } from '../../helpers/multiuser.js';
import type { UsageReport } from '../../../src/protocol/usage-report.js';
import { openAllocatorStore } from '../../../src/store/allocator-store.js';

const NODES = 'n1 address=localhost cores=8 memory=64\n';
const H = 3_600_000;

async function report(mu: TestMultiuser, since: number | null = null, until: number | null = null): Promise<UsageReport> {
  const admin = await mu.admin();
  const r = await admin.request({ type: 'report', since, until });
  admin.close();
  assert.equal(r.type, 'report', JSON.stringify(r));
  return (r as Extract<typeof r, { type: 'report' }>).report;
}

const user = (r: UsageReport, name: string) => r.users.find((u) => u.name === name);

test('report: each slot from grant to release by the daemon’s clock; repeated requests count once; failures as masters say', async () => {
  await using mu = testMultiuser({ nodes: NODES, users: ['alice', 'bob'], env: { QPY_PROBE_MS: '0' } });
  assert.equal((await mu.start()).code, 0);
  const admin = await mu.admin();
  for (const name of ['alice', 'bob']) await admin.request({ type: 'addUser', name });
  admin.close();
  const alice = await mu.master('alice');
  await alice.request({ type: 'register', user: 'alice', running: [], queueSize: 3 });
  const sent = Date.now();
  for (const jobId of [1, 2]) {
    const g = await alice.request({ type: 'request', user: 'alice', jobId, demand: { cores: 2, memGB: 3, attrs: null }, queueSize: 3 });
    assert.equal(g.type, 'granted');
  }
  // A master that lost the reply asks again: the same slot, no second row.
  assert.equal(
    (await alice.request({ type: 'request', user: 'alice', jobId: 2, demand: { cores: 2, memGB: 3, attrs: null }, queueSize: 2 })).type,
    'granted',
  );
  const granted = Date.now();
  await new Promise((r) => setTimeout(r, 300)); // the slots are held a while: what is measured, not waited for
  const releasing = Date.now();
  await alice.request({ type: 'release', user: 'alice', jobId: 1, queueSize: 0, ended: 'done' });
  await alice.request({ type: 'release', user: 'alice', jobId: 2, queueSize: 0, ended: 'failed' });
  await alice.request({ type: 'release', user: 'alice', jobId: 2, queueSize: 0, ended: 'failed' }); // twice: closed once
  const released = Date.now();

  const r = await report(mu);
  const a = user(r, 'alice')!;
  assert.deepEqual([a.jobs, a.failed, r.users.length], [2, 1, 1]);
  const lo = (2 * 2 * (releasing - granted)) / H;
  const hi = (2 * 2 * (released - sent)) / H;
  assert.ok(a.coreHours >= lo && a.coreHours <= hi, `${a.coreHours} core-hours within [${lo}, ${hi}]`);
  assert.ok(Math.abs(a.gbHours - (a.coreHours * 3) / 2) < 1e-12, 'GB-hours: 3 GB per 2 cores');
  assert.deepEqual([a.share, a.entitlement], [1, 1], 'the only user with work: all of it, entitled to all');

  // A period that ends before the grants has nothing; one that starts after the releases neither.
  assert.deepEqual((await report(mu, null, sent - 1000)).users, []);
  assert.deepEqual((await report(mu, released + 1)).users, []);
  const bad = await (await mu.admin()).request({ type: 'report', since: released, until: sent }).catch((e: Error) => e);
  assert.match(String(bad instanceof Error ? bad.message : JSON.stringify(bad)), /the period is empty/);
});

test('a SIGKILL of qpy-multiuser loses no row and doubles none: held slots stay open until released, unreported ones close at registration', async () => {
  await using mu = testMultiuser({ nodes: NODES, users: ['alice', 'bob'], env: { QPY_PROBE_MS: '0' } });
  assert.equal((await mu.start()).code, 0);
  const admin = await mu.admin();
  for (const name of ['alice', 'bob']) await admin.request({ type: 'addUser', name });
  admin.close();
  const demand = { cores: 1, memGB: 1, attrs: null };
  const alice = await mu.master('alice');
  await alice.request({ type: 'register', user: 'alice', running: [], queueSize: 1 });
  const bob = await mu.master('bob');
  await bob.request({ type: 'register', user: 'bob', running: [], queueSize: 1 });
  const before = Date.now();
  assert.equal((await alice.request({ type: 'request', user: 'alice', jobId: 1, demand, queueSize: 1 })).type, 'granted');
  assert.equal((await bob.request({ type: 'request', user: 'bob', jobId: 5, demand, queueSize: 1 })).type, 'granted');

  await mu.kill();
  assert.equal((await mu.start()).code, 0);
  // Alice's job still runs; bob's ended while the daemon was away (its release never arrived).
  const alice2 = await mu.master('alice');
  await alice2.request({ type: 'register', user: 'alice', running: [{ jobId: 1, node: 'n1', cores: 1, memGB: 1 }], queueSize: 0 });
  const bob2 = await mu.master('bob');
  await bob2.request({ type: 'register', user: 'bob', running: [], queueSize: 0 });
  const bobClosed = Date.now();
  await new Promise((r) => setTimeout(r, 200)); // alice holds hers longer than bob: a duration, not a wait
  await alice2.request({ type: 'release', user: 'alice', jobId: 1, queueSize: 0, ended: 'done' });
  const after = Date.now();

  const r = await report(mu);
  const a = user(r, 'alice')!;
  const b = user(r, 'bob')!;
  assert.deepEqual([a.jobs, b.jobs], [1, 1], 'one row each, whatever the restart');
  assert.ok(a.coreHours > 0 && a.coreHours <= (after - before) / H, `alice ${a.coreHours}`);
  assert.ok(a.coreHours > b.coreHours, 'alice held hers longer');
  assert.ok(b.coreHours <= (bobClosed - before) / H, 'bob’s row closed at his registration');
  assert.deepEqual([a.entitlement, b.entitlement], [0.5, 0.5]);
  await mu.kill();

  // The rows as the store keeps them (by release): each closed once, by whom.
  const store = openAllocatorStore(mu.paths.db);
  const rows = store.ledgerPage(store.ledgerPage(null, 0, 100).next, 0, 100).rows;
  store.close();
  assert.deepEqual(
    rows.map((x) => [x.user, x.jobId, x.closedBy, x.ended]),
    [
      ['bob', 5, 'register', null],
      ['alice', 1, 'release', 'done'],
    ],
  );
});
