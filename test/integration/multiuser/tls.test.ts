/**
 * qpy-multiuser off loopback (finding 7 of issue 13): the daemon runs inside
 * a network namespace the test makes, on its veth address (10.213.x.y), so
 * it speaks TLS with a self-signed certificate whose fingerprint the join
 * code carries. Users' masters run outside the namespace, as on other hosts:
 * they reach it over the veth pair only. Here: the certificate made at first
 * start, the wire all TLS, and a wrong fingerprint refused; rotation is in
 * tls-rotation.test.ts. Root only (ip netns); skipped with the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { admin, invitation } from '../../helpers/multiuser.js';
import { testNetns, type TestNetns } from '../../helpers/netns.js';
import { QPY, qpyUser, ROOT, run } from '../../helpers/qpy.js';
import { connect } from '../../../src/transport/client.js';
import { wsSocket } from '../../../src/transport/ws-socket.js';
import { lightSocket } from '../../../src/transport/light-socket.js';
import { inviteKey, joinCodeText, splitJoinCode } from '../../../src/transport/invite.js';
import { fingerprintOfBytes } from '../../../src/transport/pin.js';
import { readDiscovery } from '../../../src/discovery.js';
import { allocatorToJoinSchema, type AllocatorToJoin, type JoinToAllocator } from '../../../src/protocol/admin-allocator.js';
import { QpyError } from '../../../src/errors.js';
import { skip, daemonInNamespace, joinUser, multiuserFile, runsAJob } from './tls-helpers.js';

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
