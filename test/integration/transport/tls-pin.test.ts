/**
 * The TLS listener and certificate pinning, on loopback (no root needed;
 * the network-namespace tests in integration/multiuser/tls.test.ts run the
 * real daemon off loopback): both clients connect to a pinned certificate,
 * refuse any other with CERTIFICATE_MISMATCH before the handshake's auth
 * frame, and a replaced certificate is served to new connections while open
 * ones go on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../../src/transport/server.js';
import { connect } from '../../../src/transport/client.js';
import { wsSocket } from '../../../src/transport/ws-socket.js';
import { lightSocket } from '../../../src/transport/light-socket.js';
import { fingerprintOfBytes } from '../../../src/transport/pin.js';
import { makeCertificate, type Certificate } from '../../../src/daemons/shared/tls-certificate.js';
import { cliToMasterSchema, masterToCliSchema, type CliToMaster, type MasterToCli } from '../../../src/protocol/user-master.js';
import { QpyError } from '../../../src/errors.js';

const key = randomBytes(32);

async function certificates(n: number): Promise<Certificate[]> {
  const dir = mkdtempSync(join(tmpdir(), 'qpy-tls-'));
  try {
    return await Promise.all(Array.from({ length: n }, () => makeCertificate(join(dir, 'tls.pem'))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(
  'a pinned certificate connects with both clients; another is refused with CERTIFICATE_MISMATCH before auth; ' +
    'a replaced certificate reaches new connections only',
  async () => {
    const [first, second] = await certificates(2);
    const authFrames: string[] = [];
    const server = await startServer<CliToMaster>({
      host: '127.0.0.1',
      port: 0,
      tls: { key: first!.pem, cert: first!.pem },
      keyFor: (role, user) => {
        authFrames.push(user);
        return role === 'user' ? key : null;
      },
      requestSchema: () => cliToMasterSchema,
      handle: (req) => ({ type: 'cleaned', id: req.id, count: 0 }),
      handshakeMs: 2000,
      serverName: 'test',
      log: () => undefined,
    });
    const open = (socket: typeof wsSocket, pinned: string[], user = 'u') =>
      connect<CliToMaster, MasterToCli>({
        url: `wss://127.0.0.1:${server.port}/`,
        socket,
        pin: { pinned },
        key,
        role: 'user',
        user,
        replySchema: masterToCliSchema,
        timeoutMs: 5000,
      });
    try {
      for (const socket of [wsSocket, lightSocket]) {
        const c = await open(socket, [first!.fingerprint]);
        assert.equal((await c.request({ type: 'clean', selector: { statuses: [], dirs: [], ranges: [] } })).type, 'cleaned');
        c.close();
        const wrong = fingerprintOfBytes(randomBytes(32));
        await assert.rejects(
          open(socket, [wrong], 'intruder'),
          (e: unknown) =>
            e instanceof QpyError &&
            e.code === 'CERTIFICATE_MISMATCH' &&
            e.message.includes(`fingerprint ${first!.fingerprint}, not the pinned ${wrong}`),
        );
        // A wss:// URL without a pin is a programming error, never a connection without a check.
        assert.throws(() => socket(`wss://127.0.0.1:${server.port}/`, { maxPayload: 1024, timeoutMs: 1000 }), /needs a pinned certificate/);
      }
      assert.ok(!authFrames.includes('intruder'), 'a client that refused the certificate sent no auth frame');

      // Rotation on the server: an open connection goes on; new ones get the new certificate.
      const kept = await open(wsSocket, [first!.fingerprint]);
      server.setCertificate({ key: second!.pem, cert: second!.pem });
      assert.equal((await kept.request({ type: 'clean', selector: { statuses: [], dirs: [], ranges: [] } })).type, 'cleaned');
      await assert.rejects(
        open(lightSocket, [first!.fingerprint]),
        (e: unknown) => e instanceof QpyError && e.code === 'CERTIFICATE_MISMATCH',
      );
      let seen = '';
      const both = await connect<CliToMaster, MasterToCli>({
        url: `wss://127.0.0.1:${server.port}/`,
        socket: wsSocket,
        pin: { pinned: [second!.fingerprint, first!.fingerprint], seen: (f) => (seen = f) },
        key,
        role: 'user',
        user: 'u',
        replySchema: masterToCliSchema,
        timeoutMs: 5000,
      });
      assert.equal(seen, second!.fingerprint, 'the client learns which pin the server matched');
      both.close();
      kept.close();
    } finally {
      await server.close();
    }
  },
);
