/**
 * A qpy-multiuser store written by an older version, which took a master's
 * numbers unchecked (issue 13, finding 1): slots with cores 2^53−1 or
 * negative, memory 1e308, node "", a negative job ID, a user named "". The
 * daemon drops those rows at start with a log line naming each, keeps the
 * good slot, and its status documents stay valid and its counters in range.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testMultiuser } from '../../helpers/multiuser.js';
import { openAllocatorStore } from '../../../src/store/allocator-store.js';
import { clusterStatusSchema } from '../../../src/protocol/cluster.js';

const NODES = 'n1 address=localhost cores=4 memory=16\n';

test('impossible rows of an older store are dropped at start, each logged; the good slot stays charged; the repair is kept', async () => {
  await using mu = testMultiuser({ nodes: NODES, users: ['alice'], env: { QPY_PROBE_MS: '0' } });
  // The store as an older daemon left it.
  const old = openAllocatorStore(mu.paths.db);
  old.putUser('alice', false);
  old.putUser('', false);
  const bad = [
    { user: 'alice', jobId: 2, node: 'n1', cores: Number.MAX_SAFE_INTEGER, memGB: 1 },
    { user: 'alice', jobId: 3, node: 'n1', cores: -1, memGB: 1 },
    { user: 'alice', jobId: 4, node: 'n1', cores: 1, memGB: 1e308 },
    { user: 'alice', jobId: 5, node: '', cores: 1, memGB: 1 },
    { user: 'alice', jobId: -6, node: 'n1', cores: 1, memGB: 1 },
    { user: 'alice', jobId: 7, node: 'n1', cores: 1.5, memGB: 1 },
    { user: '', jobId: 8, node: 'n1', cores: 1, memGB: 1 },
  ];
  old.putSlot({ user: 'alice', jobId: 1, node: 'n1', cores: 2, memGB: 3 });
  for (const s of bad) old.putSlot(s);
  await old.commit();
  old.close();

  const started = await mu.start();
  assert.equal(started.code, 0, started.stderr);
  const log = mu.log();
  const repairs = log.split('\n').filter((l) => l.includes('store repair: '));
  assert.equal(repairs.length, bad.length + 1, `one line per dropped row (7 slots, 1 user):\n${repairs.join('\n')}`);
  for (const s of bad) {
    assert.ok(
      repairs.some((l) => l.includes(`job ${s.jobId} (`) && l.includes(`user ${JSON.stringify(s.user)}`)),
      `slot ${s.jobId} is named: ${repairs.join('\n')}`,
    );
  }
  assert.match(log, /dropped user "" from the store/);
  assert.match(log, /job 2 \(9007199254740991 cores, 1 GB, node "n1"\) from the store: the cores must be a whole number from 1 to 1000000/);
  assert.match(log, /job 4 \(1 cores, 1e\+308 GB, node "n1"\) from the store: the memory must be from 0 to 1000000 GB/);
  assert.match(log, /job 5 \(1 cores, 1 GB, node ""\) from the store: the node name must be 1 to 256 characters/);

  // The good slot is charged, nothing else; the status document is valid.
  const admin = await mu.admin();
  const st = await admin.request({ type: 'status' });
  assert.equal(st.type, 'status');
  if (st.type !== 'status') return;
  clusterStatusSchema(st.status, '$');
  assert.deepEqual(
    st.status.users.map((u) => [u.name, u.usedCores]),
    [['alice', 2]],
  );
  assert.equal(st.status.nodes[0]!.usedCores, 2);
  assert.equal(st.status.nodes[0]!.reqMemGB, 2 + 3);

  // Alice's master reports no running job: every counter is back at zero, none below.
  assert.equal((await admin.request({ type: 'addUser', name: 'alice' })).type, 'userAdded'); // a key for her
  const alice = await mu.master('alice');
  assert.equal((await alice.request({ type: 'register', user: 'alice', running: [], queueSize: 0 })).type, 'registered');
  const after = await admin.request({ type: 'status' });
  if (after.type !== 'status') return assert.fail(after.type);
  assert.equal(after.status.usedCores, 0);
  assert.ok(
    after.status.users.every((u) => u.usedCores === 0),
    JSON.stringify(after.status.users),
  );
  assert.equal(after.status.nodes[0]!.usedCores, 0);

  // The repair was written: a restart finds nothing more to drop.
  alice.close();
  admin.close();
  await mu.kill();
  assert.equal((await mu.start()).code, 0);
  const again = mu
    .log()
    .split('\n')
    .filter((l) => l.includes('store repair: '));
  assert.equal(again.length, repairs.length, `nothing left to repair after a restart:\n${again.join('\n')}`);
});
