/**
 * qpy-multiuser off loopback (finding 7 of issue 13): the daemon runs inside
 * a network namespace the test makes, on its veth address (10.213.x.y), so
 * it speaks TLS with a self-signed certificate whose fingerprint the join
 * code carries. Users' masters run outside the namespace, as on other hosts:
 * they reach it over the veth pair only. Root only (ip netns); skipped with
 * the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { admin, daemonAt, invitation, testMultiuser, type TestMultiuser } from '../../helpers/multiuser.js';
import { netnsSkip, testNetns, type TestNetns } from '../../helpers/netns.js';
import { QPY, qpyUser, ROOT, run, type QpyUser } from '../../helpers/qpy.js';
import { waitFor } from '../../helpers/wait.js';
import { connect } from '../../../src/transport/client.js';
import { wsSocket } from '../../../src/transport/ws-socket.js';
import { lightSocket } from '../../../src/transport/light-socket.js';
import { inviteKey, joinCodeText, splitJoinCode } from '../../../src/transport/invite.js';
import { fingerprintOfBytes } from '../../../src/transport/pin.js';
import { readKey } from '../../../src/transport/key.js';
import { readDiscovery } from '../../../src/discovery.js';
import { allocatorToJoinSchema, type AllocatorToJoin, type JoinToAllocator } from '../../../src/protocol/admin-allocator.js';
import { allocatorToMasterSchema, type AllocatorFrame, type MasterToAllocator } from '../../../src/protocol/master-allocator.js';
import { QpyError } from '../../../src/errors.js';

const skip = netnsSkip();
const NODES = 'n1 address=localhost cores=4 memory=16\n';
const ENV = { QPY_PROBE_MS: '0', QPY_CERTIFICATE_CONFIRM_MS: '3000' };

/** A daemon in its own namespace, listening on the namespace's address (off loopback). */
async function daemonInNamespace(ns: TestNetns): Promise<TestMultiuser> {
  const mu = testMultiuser({ nodes: NODES, env: ENV, address: ns.inside, wrap: ns.exec });
  const r = await mu.start();
  assert.equal(r.code, 0, r.stderr);
  return mu;
}

/** A user the admin added who joined with `hostPort` (default: the daemon's own address); the join's stdout. */
async function joinUser(mu: TestMultiuser, name: string, hostPort?: string): Promise<{ user: QpyUser; out: string; code: string }> {
  const added = invitation(await admin(mu, ['users', 'add', name]));
  const user = qpyUser({ env: { QPY_USER: name } });
  const r = await run(QPY, ['join', hostPort ?? added.hostPort], user.work, user.env, `${added.code}\n`);
  assert.equal(r.code, 0, r.stderr);
  return { user, out: r.stdout, code: added.code };
}

const multiuserFile = (u: QpyUser) =>
  JSON.parse(readFileSync(join(u.qpyDir, 'multiuser.json'), 'utf8')) as {
    address: string;
    fingerprint?: string;
    previousFingerprint?: string;
  };

/** Run a job and wait for it to end `done`: the master got a slot from the daemon. */
async function runsAJob(u: QpyUser): Promise<void> {
  const out = await u.ok(['sub', 'true']);
  const id = /\d+/.exec(out)![0];
  await waitFor(async () => (await u.ok(['check', id])).includes('done'), { what: `job ${id} done`, timeoutMs: 20_000 });
}

/** The record proxy (test/helpers/record-proxy.ts) inside the namespace, in front of the daemon; its port. */
async function recordProxy(ns: TestNetns, targetPort: number, out: string): Promise<{ port: number; proc: ChildProcess }> {
  mkdirSync(out, { recursive: true });
  const proc = spawn(
    ns.exec[0]!,
    [
      ...ns.exec.slice(1),
      process.execPath,
      join(ROOT, 'dist', 'test', 'helpers', 'record-proxy.js'),
      ns.inside,
      ns.inside,
      String(targetPort),
      out,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [line] = (await once(proc.stdout!, 'data')) as [Buffer];
  return { port: Number(line.toString().trim()), proc };
}

/**
 * The TLS records of one direction of a connection: every byte belongs to a
 * record (content type 20 to 23, version 3.1 to 3.4), the last one perhaps
 * still arriving. Throws at the first byte that is not TLS.
 */
function tlsRecords(stream: Buffer): number[] {
  const types: number[] = [];
  let off = 0;
  while (off + 5 <= stream.length) {
    const type = stream[off]!;
    const version = stream.readUInt16BE(off + 1);
    assert.ok(type >= 20 && type <= 23, `byte ${off}: content type ${type} is not TLS`);
    assert.ok(version >= 0x0301 && version <= 0x0304, `byte ${off}: version ${version.toString(16)} is not TLS`);
    types.push(type);
    off += 5 + stream.readUInt16BE(off + 3);
  }
  return types;
}

test('off loopback the daemon makes a key and self-signed certificate (0600) at first start, advertises its fingerprint, and the code carries it', {
  skip,
}, async () => {
  await using ns = testNetns();
  await using mu = await daemonInNamespace(ns);
  // What it proves: the certificate exists, is private, and the fingerprint that travels is the one served.
  assert.equal(statSync(mu.paths.tls).mode & 0o777, 0o600);
  const served = new X509Certificate(readFileSync(mu.paths.tls)).fingerprint256;
  const d = readDiscovery(mu.paths.discovery)!;
  assert.equal(d.host, ns.inside);
  assert.equal(d.fingerprint, served);
  assert.match(mu.log(), new RegExp(`made a TLS key and self-signed certificate .*SHA-256 fingerprint ${served}`));
  const added = await admin(mu, ['users', 'add', 'alice']);
  const { hostPort, code } = invitation(added);
  assert.equal(hostPort, `${ns.inside}:${d.port}`);
  assert.equal(code.length, 78);
  assert.equal(splitJoinCode(code)!.fingerprint, served);
  assert.ok(added.includes(`    ${served}\n`), added);
  // A restart keeps the certificate: the codes and pins stay valid.
  await mu.kill();
  assert.equal((await mu.start()).code, 0);
  assert.equal(readDiscovery(mu.paths.discovery)!.fingerprint, served);
});

test('a master on another host joins over TLS and gets slots; every byte on the wire is a TLS record, never a frame', {
  skip,
}, async () => {
  await using ns = testNetns();
  await using mu = await daemonInNamespace(ns);
  const capture = join(mu.dir.path, 'capture');
  const proxy = await recordProxy(ns, mu.port(), capture);
  try {
    // Alice joins and her master connects through the recording proxy (it stands where a network attacker would).
    const { user: alice, out } = await joinUser(mu, 'alice', `${ns.inside}:${proxy.port}`);
    await using _alice = alice;
    const fp = readDiscovery(mu.paths.discovery)!.fingerprint!;
    assert.match(
      out,
      new RegExp(
        `^Joined qpy-multiuser at ${ns.inside.replace(/\./g, '\\.')}:${proxy.port} as alice \\(TLS, certificate SHA-256 ${fp}\\)\\.$`,
        'm',
      ),
    );
    assert.equal(multiuserFile(alice).fingerprint, fp, 'the pin is kept for the master');
    await runsAJob(alice);
    await runsAJob(alice);
    // What it proves: the join and the master's link (register, request, release) crossed the wire, all of it TLS.
    const files = readdirSync(capture).sort();
    assert.ok(files.length >= 4, `connections recorded: ${files.join(' ')}`);
    let appData = 0;
    for (const f of files) {
      const bytes = readFileSync(join(capture, f));
      const types = tlsRecords(bytes);
      assert.equal(types[0], 22, `${f} opens with a TLS handshake record`);
      appData += types.filter((t) => t === 23).length;
      const text = bytes.toString('latin1');
      for (const plain of ['"type"', 'register', '"nonce"', 'hello', 'welcome', 'Upgrade', 'websocket', 'alice'])
        assert.ok(!text.includes(plain), `${f} carries "${plain}" in clear`);
    }
    assert.ok(appData >= 8, `application data records: ${appData}`);
  } finally {
    proxy.proc.kill('SIGKILL');
  }
});

test('a client with the wrong fingerprint is refused before it sends anything; the code stays unused', { skip }, async () => {
  await using ns = testNetns();
  await using mu = await daemonInNamespace(ns);
  const { hostPort, code } = invitation(await admin(mu, ['users', 'add', 'bob']));
  const real = splitJoinCode(code)!;
  const wrong = fingerprintOfBytes(randomBytes(32));
  await using bob = qpyUser({ env: { QPY_USER: 'bob' } });

  // qpy join with a code whose fingerprint is another certificate's (a server standing in for the daemon would look like this).
  const refused = await run(QPY, ['join', hostPort], bob.work, bob.env, `${joinCodeText(real.code, wrong)}\n`);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    new RegExp(
      `^qpy: qpy-multiuser at ${hostPort.replace(/\./g, '\\.')} is not the one your code names: ` +
        `.*presented a TLS certificate with SHA-256 fingerprint ${real.fingerprint}, not the pinned ${wrong}: ` +
        `nothing was sent to it \\(someone may be intercepting`,
    ),
  );
  assert.doesNotMatch(mu.log(), /join "bob"|bob joined/, 'the daemon never saw a join for bob');

  // The same with both protocol clients, each refused with CERTIFICATE_MISMATCH.
  const url = `wss://${hostPort}/`;
  for (const socket of [wsSocket, lightSocket]) {
    await assert.rejects(
      connect<JoinToAllocator, AllocatorToJoin>({
        url,
        socket,
        pin: { pinned: [wrong] },
        key: inviteKey(real.code, 'bob'),
        role: 'join',
        user: 'bob',
        replySchema: allocatorToJoinSchema,
        timeoutMs: 5000,
      }),
      (e: unknown) => e instanceof QpyError && e.code === 'CERTIFICATE_MISMATCH' && e.message.includes(wrong),
    );
  }
  // A plain WebSocket client gets no WebSocket at all: the port speaks only TLS.
  await assert.rejects(
    connect({
      url: `ws://${hostPort}/`,
      socket: wsSocket,
      key: inviteKey(real.code, 'bob'),
      role: 'join',
      user: 'bob',
      replySchema: allocatorToJoinSchema,
      timeoutMs: 5000,
    }),
    (e: unknown) => e instanceof QpyError && e.code === 'MASTER_UNREACHABLE',
  );

  // The code was never used: with the right fingerprint it works.
  const r = await run(QPY, ['join', hostPort], bob.work, bob.env, `${code}\n`);
  assert.equal(r.code, 0, r.stderr);
  await runsAJob(bob);
});

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
