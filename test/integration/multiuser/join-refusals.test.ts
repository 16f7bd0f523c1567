/**
 * Handshakes a real qpy-multiuser refuses: each logged naming the peer's
 * uid, user and pid; users who may not use the cluster told so at the
 * handshake; and at start, a port held by another program named with its
 * holder. Joining itself is in join.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { testMultiuser } from '../../helpers/multiuser.js';
import { QPY, qpyUser, run } from '../../helpers/qpy.js';
import { waitFor } from '../../helpers/wait.js';
import { readKey } from '../../../src/transport/key.js';
import { NODES, ENV, demand, me, isError, joinWith } from './join-helpers.js';

test('a refused join is logged with the peer’s uid, user name and pid', async () => {
  await using mu = testMultiuser({ nodes: NODES, env: ENV });
  assert.equal((await mu.start()).code, 0);
  await (await mu.admin()).request({ type: 'addUser', name: 'carol' });
  await assert.rejects(
    joinWith(mu.port(), 'carol', 'a'.repeat(26)),
    isError('UNAUTHENTICATED', /invitation code is wrong, used or expired/),
  );
  await waitFor(() => /refused join/.test(readFileSync(mu.paths.log, 'utf8')), { what: 'the refusal logged' });
  assert.match(
    readFileSync(mu.paths.log, 'utf8'),
    new RegExp(
      `refused join "carol" from 127\\.0\\.0\\.1:\\d+ \\(${me}, pid ${process.pid}\\): the invitation code is wrong, used or expired`,
    ),
  );
  // qpy join says so in one line.
  await using u = qpyUser({ env: { QPY_USER: 'carol' } });
  const r = await run(QPY, ['join', `127.0.0.1:${mu.port()}`], u.work, u.env, `${'b'.repeat(26)}\n`);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      '^qpy: qpy-multiuser at 127\\.0\\.0\\.1:\\d+ refused the code for carol: ' +
        'the invitation code is wrong, used or expired \\(.*ask your administrator for a new one\\)\n$',
    ),
  );
});

test('NOT_ALLOWED at the handshake: a removed user, a user never allowed; a removed user still holding slots connects until they end', async () => {
  await using mu = testMultiuser({ nodes: NODES, env: ENV });
  assert.equal((await mu.start()).code, 0);
  const adm = await mu.admin();
  for (const u of ['alice', 'bob']) await adm.request({ type: 'addUser', name: u });
  const bobKey = readKey(join(mu.paths.keys, 'bob.key'));
  // Alice holds a slot when she is removed.
  const alice = await mu.master('alice');
  await alice.request({ type: 'register', user: 'alice', running: [], queueSize: 1 });
  assert.equal((await alice.request({ type: 'request', user: 'alice', jobId: 1, demand, queueSize: 1 })).type, 'granted');
  assert.deepEqual(await adm.request({ type: 'removeUser', name: 'alice' }), {
    type: 'userRemoved',
    id: 3,
    name: 'alice',
    result: 'draining',
  });
  assert.deepEqual(await adm.request({ type: 'removeUser', name: 'bob' }), { type: 'userRemoved', id: 4, name: 'bob', result: 'unknown' });

  await assert.rejects(
    mu.master('bob', bobKey),
    isError('NOT_ALLOWED', /^user bob is not allowed to use this cluster \(removed by the administrator\)$/),
  );
  await assert.rejects(
    mu.master('mallory', Buffer.alloc(32, 1)),
    isError('NOT_ALLOWED', /^user mallory is not allowed to use this cluster \(not in allowed_users\)$/),
  );
  // In allowed_users by hand, but never given a key: said too.
  writeFileSync(mu.paths.allowedUsers, 'dave\n');
  await assert.rejects(mu.master('dave', Buffer.alloc(32, 1)), isError('UNAUTHENTICATED', /^user dave has no key on this cluster$/));
  // Alice still holds her slot: her master connects (so the job's end is heard), but gets no new slot.
  const again = await mu.master('alice');
  await assert.rejects(again.request({ type: 'request', user: 'alice', jobId: 2, demand, queueSize: 1 }), isError('NOT_ALLOWED'));
  // Once her job ends, she is forgotten (her key with her), and refused at the handshake like bob.
  const aliceKey = readKey(join(mu.paths.keys, 'alice.key'));
  await again.request({ type: 'release', user: 'alice', jobId: 1, queueSize: 0 });
  assert.ok(!existsSync(join(mu.paths.keys, 'alice.key')));
  await assert.rejects(mu.master('alice', aliceKey), isError('NOT_ALLOWED', /removed by the administrator/));
  // The refusal survives a restart of the daemon.
  await mu.kill();
  assert.equal((await mu.start()).code, 0);
  await assert.rejects(mu.master('bob', bobKey), isError('NOT_ALLOWED', /removed by the administrator/));
  assert.match(
    readFileSync(mu.paths.log, 'utf8'),
    new RegExp(`refused master "bob" from 127\\.0\\.0\\.1:\\d+ \\(${me}, pid ${process.pid}\\): user bob is not allowed`),
  );
});

test('a port held by another program at start: the error names its uid, user and pid', async () => {
  await using mu = testMultiuser({ nodes: NODES, env: ENV });
  assert.equal((await mu.start()).code, 0);
  const port = mu.port();
  await mu.kill();
  // Another test's client connection may hold the port for a moment as its own ephemeral port: try until it is free.
  const squatter = await waitFor(
    async () => {
      const srv = createServer();
      const ok = await new Promise<boolean>((resolve) => {
        srv.once('error', () => resolve(false));
        srv.listen(port, '127.0.0.1', () => resolve(true));
      });
      return ok ? srv : null;
    },
    { what: `port ${port} free for the squatter`, timeoutMs: 20_000 },
  );
  try {
    assert.equal((squatter.address() as AddressInfo).port, port);
    const r = await mu.start();
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^qpy-multiuser: port ${port} \\(from \\S+/multiuser_connection_port\\) ` +
          `is held by uid ${process.getuid!()} \\(${userInfo().username}\\), pid ${process.pid}: is another qpy-multiuser running\\?\\n`,
      ),
    );
  } finally {
    squatter.close();
  }
});
