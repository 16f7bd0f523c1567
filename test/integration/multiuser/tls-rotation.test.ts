/**
 * qpy-multiuser's TLS certificate rotated while masters are connected or
 * away (qpy-admin rotate-certificate), and a daemon on loopback, which has
 * no certificate to rotate. The off-loopback setup is in tls-helpers.ts.
 * Root only (ip netns); skipped with the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { admin, daemonAt, invitation, testMultiuser } from '../../helpers/multiuser.js';
import { testNetns } from '../../helpers/netns.js';
import { QPY, qpyUser, ROOT, run } from '../../helpers/qpy.js';
import { waitFor } from '../../helpers/wait.js';
import { connect } from '../../../src/transport/client.js';
import { wsSocket } from '../../../src/transport/ws-socket.js';
import { readKey } from '../../../src/transport/key.js';
import { readDiscovery } from '../../../src/discovery.js';
import { allocatorToMasterSchema, type AllocatorFrame, type MasterToAllocator } from '../../../src/protocol/master-allocator.js';
import { skip, NODES, ENV, daemonInNamespace, joinUser, multiuserFile, runsAJob } from './tls-helpers.js';

test('rotation: a connected master stores the new fingerprint and keeps working (also after a restart of the daemon); ' +
  'a master away must join again, and says so', {
  skip,
}, async () => {
  await using ns = testNetns();
  await using mu = await daemonInNamespace(ns);
  const old = readDiscovery(mu.paths.discovery)!.fingerprint!;
  const { user: alice } = await joinUser(mu, 'alice');
  await using _alice = alice;
  const { user: carol } = await joinUser(mu, 'carol');
  await using _carol = carol;
  await runsAJob(alice);
  await carol.ok(['finish']); // away during the rotation
  const pending = invitation(await admin(mu, ['users', 'add', 'dave'])); // a code made before the rotation

  // A protocol-level master too, to see the push itself.
  const pushes: AllocatorFrame[] = [];
  const watcher = await connect<MasterToAllocator, AllocatorFrame>({
    ...daemonAt(mu.paths.discovery),
    socket: wsSocket,
    key: readKey(join(mu.paths.keys, 'alice.key')),
    role: 'master',
    user: 'alice',
    replySchema: allocatorToMasterSchema,
    timeoutMs: 5000,
    onPush: (f) => void pushes.push(f),
  });

  const out = await admin(mu, ['rotate-certificate']);
  const fresh = readDiscovery(mu.paths.discovery)!.fingerprint!;
  assert.notEqual(fresh, old);
  assert.equal(new X509Certificate(readFileSync(mu.paths.tls)).fingerprint256, fresh);
  // What it proves: the connected masters were told over the old link; alice's stored it (the watcher never confirms).
  assert.match(
    out,
    new RegExp(
      `^TLS certificate rotated\\. New SHA-256 fingerprint:\\n    ${fresh}\\n\\(was ${old}\\)\\.\\n` +
        `1 of 2 connected masters stored it and keep working\\. 1 did not confirm in time`,
      'm',
    ),
  );
  assert.match(out, /1 pending invitation code carries the old fingerprint/);
  assert.deepEqual(pushes, [{ type: 'certificate', fingerprint: fresh }]);
  watcher.close();
  assert.equal(multiuserFile(alice).fingerprint, fresh);
  assert.equal(multiuserFile(alice).previousFingerprint, old);

  // The open link goes on; after the daemon's restart alice's master reconnects to the new certificate, and drops the old pin.
  await runsAJob(alice);
  await mu.kill();
  assert.equal((await mu.start()).code, 0);
  await runsAJob(alice);
  await waitFor(() => multiuserFile(alice).previousFingerprint === undefined, { what: 'the old pin dropped' });

  // Carol's master was away: it refuses the new certificate and says to join again (log, why, sub).
  await carol.ok(['check']); // starts her master
  await waitFor(() => readFileSync(join(carol.qpyDir, 'master.log'), 'utf8').includes('refusing qpy-multiuser'), {
    what: 'carol refuses the certificate',
  });
  const log = readFileSync(join(carol.qpyDir, 'master.log'), 'utf8');
  assert.match(
    log,
    new RegExp(
      `refusing qpy-multiuser: qpy-multiuser's TLS certificate is not the one this master pinned ` +
        `\\(.*SHA-256 fingerprint ${fresh}, not the pinned ${old}.*\\(if the administrator rotated the certificate ` +
        `while this master was away, join again with a new code from them: qpy join ${ns.inside.replace(/\./g, '\\.')}:\\d+;`,
    ),
  );
  const sub = await carol.qpy(['sub', 'true']);
  assert.equal(sub.code, 1);
  assert.match(sub.stderr, /job refused: qpy-multiuser's TLS certificate is not the one this master pinned .*join again with a new code/);

  // The code made before the rotation pins the old certificate: refused.
  await using dave = qpyUser({ env: { QPY_USER: 'dave' } });
  const r = await run(QPY, ['join', pending.hostPort], dave.work, dave.env, `${pending.code}\n`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /is not the one your code names/);

  // Joining again with a new code fixes carol.
  const again = invitation(await admin(mu, ['users', 'add', 'carol']));
  const j = await run(QPY, ['join', again.hostPort], carol.work, carol.env, `${again.code}\n`);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(multiuserFile(carol).fingerprint, fresh);
  await runsAJob(carol);
});

test('on loopback the daemon stays plain and has no certificate to rotate', async () => {
  await using mu = testMultiuser({ nodes: NODES, env: ENV });
  assert.equal((await mu.start()).code, 0);
  assert.equal(readDiscovery(mu.paths.discovery)!.fingerprint, undefined);
  assert.equal(invitation(await admin(mu, ['users', 'add', 'alice'])).code.length, 26);
  const r = await run(join(ROOT, 'admin', 'qpy-admin'), ['rotate-certificate'], mu.dir.path, mu.env);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      '^qpy-admin: qpy-multiuser listens on loopback, without TLS: it has no certificate to rotate ' +
        '\\(TLS is used when multiuser_connection_address is a network address',
    ),
  );
});
