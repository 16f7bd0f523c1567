/**
 * The qpy-multiuser daemon as a real process: per-user keys and the admin
 * key, invitations, identity checks, slots that survive a SIGKILL, bad files
 * that never stop it, and the permission checks at start.
 */
import { PROTOCOL_VERSION } from '../../../src/protocol/version.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testMultiuser } from '../../helpers/multiuser.js';
import { waitFor } from '../../helpers/wait.js';
import { connect } from '../../../src/transport/client.js';
import { wsSocket } from '../../../src/transport/ws-socket.js';
import { inviteKey, openUserKey } from '../../../src/transport/invite.js';
import { readKey } from '../../../src/transport/key.js';
import { allocatorToJoinSchema, type AllocatorToJoin, type JoinToAllocator } from '../../../src/protocol/admin-allocator.js';
import { QpyError } from '../../../src/errors.js';

const NODES = 'n1 address=localhost cores=4 memory=16\nn2 address=localhost cores=4 memory=16\n';
const demand = { cores: 1, memGB: 1, attrs: null };

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof QpyError && err.code === code);
}

test('admin adds a user, the user joins with the code, its master gets slots in its own name only', async () => {
  await using mu = testMultiuser({ nodes: NODES });
  assert.equal((await mu.start()).code, 0);
  const admin = await mu.admin();
  const added = await admin.request({ type: 'addUser', name: 'alice' });
  assert.equal(added.type, 'userAdded');
  if (added.type !== 'userAdded') return;
  assert.equal(added.port, mu.port());
  assert.match(readFileSync(mu.paths.allowedUsers, 'utf8'), /^alice$/m);

  // Join: the code proves the invitation; the key comes back sealed.
  const j = await connect<JoinToAllocator, AllocatorToJoin>({
    url: `ws://127.0.0.1:${mu.port()}/`,
    socket: wsSocket,
    key: inviteKey(added.code, 'alice'),
    role: 'join',
    user: 'alice',
    replySchema: allocatorToJoinSchema,
    timeoutMs: 5000,
  });
  const joined = await j.request({ type: 'join' });
  j.close();
  assert.equal(joined.type, 'joined');
  if (joined.type !== 'joined') return;
  const key = openUserKey(inviteKey(added.code, 'alice'), joined);
  assert.deepEqual(key, readKey(join(mu.paths.keys, 'alice.key')));
  // The code works once.
  await rejectsWith(
    connect({
      url: `ws://127.0.0.1:${mu.port()}/`,
      socket: wsSocket,
      key: inviteKey(added.code, 'alice'),
      role: 'join',
      user: 'alice',
      replySchema: allocatorToJoinSchema,
      timeoutMs: 5000,
    }),
    'UNAUTHENTICATED',
  );

  const alice = await mu.master('alice', key);
  assert.equal((await alice.request({ type: 'register', user: 'alice', running: [], queueSize: 1 })).type, 'registered');
  const g = await alice.request({ type: 'request', user: 'alice', jobId: 1, demand, queueSize: 1 });
  assert.equal(g.type, 'granted');
  // Alice's key cannot speak for bob, nor act as admin; bob is not even allowed.
  await rejectsWith(alice.request({ type: 'request', user: 'bob', jobId: 2, demand, queueSize: 1 }), 'UNAUTHENTICATED');
  await rejectsWith(mu.master('alice', key, 'admin'), 'UNAUTHENTICATED');
  await rejectsWith(mu.master('bob', key), 'NOT_ALLOWED');
});

test('SIGKILL and restart: the slots are still held, so nothing granted twice; the port is kept', async () => {
  await using mu = testMultiuser({ nodes: 'n1 address=localhost cores=2 memory=16\n', users: ['alice', 'bob'] });
  assert.equal((await mu.start()).code, 0);
  const admin = await mu.admin();
  await admin.request({ type: 'addUser', name: 'alice' });
  await admin.request({ type: 'addUser', name: 'bob' });
  const alice = await mu.master('alice');
  await alice.request({ type: 'register', user: 'alice', running: [], queueSize: 3 });
  for (const jobId of [1, 2])
    assert.equal((await alice.request({ type: 'request', user: 'alice', jobId, demand, queueSize: 3 })).type, 'granted');
  const port = mu.port();
  await mu.kill();
  assert.equal((await mu.start()).code, 0);
  assert.equal(mu.port(), port, 'the same port: users keep their connection details');
  // Bob registers first after the restart: both cores are still alice's.
  const bob = await mu.master('bob');
  await bob.request({ type: 'register', user: 'bob', running: [], queueSize: 1 });
  const r = await bob.request({ type: 'request', user: 'bob', jobId: 1, demand, queueSize: 1 });
  assert.deepEqual(r.type === 'refused' && r.reason, 'no_room');
  const s = await (await mu.admin()).request({ type: 'status' });
  assert.ok(s.type === 'status');
  if (s.type === 'status')
    assert.deepEqual(
      s.status.users.map((u) => [u.name, u.usedCores]),
      [
        ['alice', 2],
        ['bob', 0],
      ],
    );
});

test('a bad nodes file is reported and the last good one stays in force; bad rules likewise', async () => {
  await using mu = testMultiuser({ nodes: NODES });
  assert.equal((await mu.start()).code, 0);
  const admin = await mu.admin();
  writeFileSync(mu.paths.nodes, 'n1 cores=lots\n');
  await rejectsWith(admin.request({ type: 'reloadNodes' }), 'NODES_FILE');
  const s = await admin.request({ type: 'status' });
  assert.ok(s.type === 'status');
  if (s.type !== 'status') return;
  assert.deepEqual(
    s.status.nodes.map((n) => n.name),
    ['n1', 'n2'],
  );
  assert.match(s.status.warnings.join('\n'), /line 1.*last good nodes file stays in force/);
  // A restart keeps using the last good copy.
  await mu.kill();
  assert.equal((await mu.start()).code, 0);
  const s2 = await (await mu.admin()).request({ type: 'status' });
  assert.deepEqual(s2.type === 'status' && s2.status.nodes.map((n) => n.name), ['n1', 'n2']);
  writeFileSync(mu.paths.rules, 'bogus\n');
  await rejectsWith((await mu.admin()).request({ type: 'distribute' }), 'RULES_FILE');
  writeFileSync(mu.paths.nodes, `${NODES}n3 address=localhost cores=2 memory=8\n`);
  const diff = await (await mu.admin()).request({ type: 'reloadNodes' });
  assert.deepEqual(diff.type === 'nodesReloaded' && diff.added, ['n3']);
});

test('keys and the admin directory open to others are refused at start, with the fix in the message', async () => {
  await using mu = testMultiuser({ nodes: NODES });
  assert.equal((await mu.start()).code, 0);
  await mu.kill();
  chmodSync(mu.paths.adminKey, 0o644);
  const r = await mu.start();
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^qpy-multiuser: key file .*admin\.key is open to other users \(mode 644\)\nhint: run: chmod 600 /);
  chmodSync(mu.paths.adminKey, 0o600);
  chmodSync(mu.paths.dir, 0o755);
  const r2 = await mu.start();
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /directory .* is open to other users \(mode 755\)/);
});

test('refused, each with a clear error: a user no longer in allowed_users, a wrong key, a replayed handshake, admin commands with a user key', async () => {
  await using mu = testMultiuser({ nodes: NODES });
  assert.equal((await mu.start()).code, 0);
  const admin = await mu.admin();
  await admin.request({ type: 'addUser', name: 'alice' });
  await admin.request({ type: 'addUser', name: 'bob' });
  // bob is taken out of allowed_users by hand: his key no longer opens the door, and he is told why.
  writeFileSync(mu.paths.allowedUsers, 'alice\n');
  await rejectsWith(mu.master('bob'), 'NOT_ALLOWED');
  // A wrong key, for a real user.
  await rejectsWith(mu.master('alice', Buffer.alloc(32, 7)), 'UNAUTHENTICATED');
  // A handshake recorded from alice's connection, replayed on a new one, fails: the server's nonce is new.
  const WebSocket = (await import('ws')).default;
  const { clientProof, freshNonce } = await import('../../../src/transport/auth.js');
  const url = `ws://127.0.0.1:${mu.port()}/`;
  const recorded = await new Promise<string>((resolve) => {
    const ws = new WebSocket(url);
    ws.once('message', (d) => {
      const hello = JSON.parse(String(d)) as { nonce: string };
      const nonce = freshNonce();
      const auth = JSON.stringify({
        type: 'auth',
        protocol: PROTOCOL_VERSION,
        role: 'master',
        user: 'alice',
        nonce,
        mac: clientProof(readKey(join(mu.paths.keys, 'alice.key')), 'master', hello.nonce, nonce),
      });
      ws.send(auth);
      ws.once('message', () => {
        ws.close();
        resolve(auth);
      });
    });
  });
  const replayed = await new Promise<string>((resolve) => {
    const ws = new WebSocket(url);
    ws.once('message', () => {
      ws.send(recorded);
      ws.once('message', (d) => resolve(String(d)));
    });
  });
  assert.match(replayed, /"code":"UNAUTHENTICATED"/);
  // Admin commands with alice's key: the admin role wants the admin key.
  await rejectsWith(mu.master('alice', readKey(join(mu.paths.keys, 'alice.key')), 'admin'), 'UNAUTHENTICATED');
  // And alice's own connection cannot send admin messages: the master role has no such requests.
  const alice = await mu.master('alice');
  await rejectsWith(alice.request({ type: 'finish' } as never), 'BAD_FRAME');
});

test('explicit rules through the daemon: the §3.4 shares, and a minimum kept free for its user while others borrow', async () => {
  await using mu = testMultiuser({
    nodes: 'n1 address=localhost cores=20 memory=64\nn2 address=localhost cores=20 memory=64\n',
    rules: 'explicit minimum 2\nuser1 30%\nuser2 4+50%\n',
    env: { QPY_PROBE_MS: '0' },
  });
  assert.equal((await mu.start()).code, 0);
  const admin = await mu.admin();
  const masters = [];
  for (const u of ['user1', 'user2', 'user3']) {
    await admin.request({ type: 'addUser', name: u });
    const m = await mu.master(u);
    await m.request({ type: 'register', user: u, running: [], queueSize: 0 });
    masters.push(m);
  }
  const s = await admin.request({ type: 'status' });
  assert.deepEqual(s.type === 'status' && s.status.users.map((u) => `${u.name} ${u.minCores}/${u.extraCores}`), [
    'user1 2/13',
    'user2 4/19',
    'user3 2/0',
  ]);
  // user1 borrows everything the idle users do not keep as their minimum: 40 − 4 − 2 = 34.
  let got = 0;
  for (let j = 1; j <= 40; j++) {
    const r = await masters[0]!.request({ type: 'request', user: 'user1', jobId: j, demand, queueSize: 40 - j + 1 });
    if (r.type === 'granted') got++;
  }
  assert.equal(got, 34);
  // user3's guaranteed 2 cores are there at once.
  for (const j of [1, 2])
    assert.equal((await masters[2]!.request({ type: 'request', user: 'user3', jobId: j, demand, queueSize: 3 - j })).type, 'granted');
  const third = await masters[2]!.request({ type: 'request', user: 'user3', jobId: 3, demand, queueSize: 1 });
  assert.deepEqual(third.type === 'refused' && third.reason, 'no_room');
});

test('a master may keep only the slots the daemon granted it: the rest is refused, never counted, and logged with the user', async () => {
  await using mu = testMultiuser({
    nodes: 'n1 address=localhost cores=2 memory=16\nbig address=localhost cores=2 memory=64 attributes=bigmem\n',
    users: ['alice', 'bob'],
  });
  assert.equal((await mu.start()).code, 0);
  const admin = await mu.admin();
  await admin.request({ type: 'addUser', name: 'alice' });
  await admin.request({ type: 'addUser', name: 'bob' });
  const alice = await mu.master('alice');
  const bob = await mu.master('bob');
  await bob.request({ type: 'register', user: 'bob', running: [], queueSize: 1 });
  assert.equal((await bob.request({ type: 'request', user: 'bob', jobId: 5, demand, queueSize: 1 })).type, 'granted');
  // alice (or whoever holds her key) reports the bigmem node full and bob's job as hers.
  const r = await alice.request({
    type: 'register',
    user: 'alice',
    running: [
      { jobId: 1, node: 'big', cores: 2, memGB: 60 },
      { jobId: 5, node: 'n1', cores: 1, memGB: 1 },
    ],
    queueSize: 0,
  });
  assert.deepEqual(r.type === 'registered' && r.refused.map((x) => x.jobId), [1, 5]);
  const s = await admin.request({ type: 'status' });
  assert.ok(s.type === 'status');
  if (s.type === 'status')
    assert.deepEqual(
      [s.status.usedCores, s.status.users.map((u) => [u.name, u.usedCores])],
      [
        1,
        [
          ['bob', 1],
          ['alice', 0],
        ],
      ],
    );
  assert.equal(
    (await bob.request({ type: 'request', user: 'bob', jobId: 6, demand: { cores: 2, memGB: 1, attrs: 'bigmem' }, queueSize: 1 })).type,
    'granted',
  );
  await waitFor(
    () =>
      /register of alice: refused 2 reported slot\(s\), never counted: jobs 1 5 \(job 1 holds no slot granted/.test(
        readFileSync(mu.paths.log, 'utf8'),
      ),
    { what: 'the refusal logged with the user' },
  );
  // A frame breaking a bound is refused by the parser.
  await rejectsWith(
    alice.request({ type: 'register', user: 'alice', running: [{ jobId: 1, node: 'n1', cores: 2 ** 53 - 1, memGB: 1 }], queueSize: 0 }),
    'BAD_REQUEST',
  );
});
