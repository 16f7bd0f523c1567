/**
 * Limits before authentication, against a real server on port 0 (and on a
 * Unix socket): a first frame cut while it is read, raw sockets that send
 * nothing closed at the deadline, caps on waiting connections per peer, and
 * failed handshakes slowed down and logged as counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServer, type ServerOptions } from '../../../src/transport/server.js';
import { connect } from '../../../src/transport/client.js';
import { wsSocket } from '../../../src/transport/ws-socket.js';
import { cliToMasterSchema, masterToCliSchema, type CliToMaster, type MasterToCli } from '../../../src/protocol/user-master.js';
import { PROTOCOL_VERSION } from '../../../src/protocol/version.js';
import { MAX_PREAUTH_BYTES } from '../../../src/transport/preauth-limits.js';
import { tempDir } from '../../helpers/temp.js';
import { waitFor } from '../../helpers/wait.js';

const key = randomBytes(32);

async function withServer(extra: Partial<ServerOptions<CliToMaster>>, fn: (port: number, log: string[]) => Promise<void>) {
  const log: string[] = [];
  const server = await startServer<CliToMaster>({
    host: '127.0.0.1',
    port: 0,
    keyFor: (role) => (role === 'user' ? key : null),
    requestSchema: (role) => (role === 'user' ? cliToMasterSchema : null),
    handle: (req) => ({ type: 'cleaned', id: req.id, count: 0 }),
    handshakeMs: 500,
    serverName: 'test',
    log: (line) => log.push(line),
    ...extra,
  });
  try {
    await fn(server.port, log);
  } finally {
    await server.close();
  }
}

/** A raw socket, open until the server closes it. */
function rawSocket(at: number | string): { socket: Socket; closed: Promise<void>; isClosed(): boolean } {
  const socket = typeof at === 'number' ? netConnect(at, '127.0.0.1') : netConnect(at);
  let done = false;
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.on('close', () => r())).then(() => void (done = true));
  return { socket, closed, isClosed: () => done };
}

test('the first frame is cut while it is read: a 15 MiB frame is not buffered before authentication', async () => {
  await withServer({ handshakeMs: 10_000 }, async (port, log) => {
    const raw = rawSocket(port);
    raw.socket.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await new Promise<void>((r) => raw.socket.once('data', () => r())); // 101 and hello
    // A masked text frame that claims 15 MiB; only a little more than the budget is sent.
    const header = Buffer.alloc(14);
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(15 * 1024 * 1024), 2);
    raw.socket.write(Buffer.concat([header, Buffer.alloc(MAX_PREAUTH_BYTES + 1024, 0x20)]));
    const started = Date.now();
    await raw.closed;
    // Before, the server waited for the rest of the frame until the 10 s deadline.
    assert.ok(Date.now() - started < 3000, `closed after ${Date.now() - started} ms`);
    await waitFor(() => log.some((l) => /closed a connection from uid \d+.*: more than \d+ bytes before authenticating/.test(l)), {
      what: 'the log line',
    });
  });
});

test('a raw TCP socket that sends nothing is closed at the handshake deadline', async () => {
  await withServer({}, async (port, log) => {
    const started = Date.now();
    const raw = rawSocket(port);
    await raw.closed;
    assert.ok(Date.now() - started < 3000, `closed after ${Date.now() - started} ms`);
    await waitFor(() => log.some((l) => /closed a connection from uid \d+.*: no WebSocket handshake within 500 ms/.test(l)), {
      what: 'the log line',
    });
  });
});

test('waiting connections are capped per peer; on the Unix socket the oldest give way, so a client still gets in', async () => {
  await using dir = tempDir();
  const socketPath = join(dir.path, 'd.sock');
  await withServer({ handshakeMs: 5000, preauthCaps: { perPeer: 3, total: 20 }, socketPath }, async (port, log) => {
    // Loopback TCP: one uid (ours) may hold 3.
    const tcp = Array.from({ length: 10 }, () => rawSocket(port));
    await waitFor(() => tcp.filter((r) => r.isClosed()).length === 7, { what: '7 of 10 closed at once' });
    await waitFor(
      () =>
        log.some((l) =>
          /closing connections from uid \d+ .*at once: too many unauthenticated connections \(at most 3 per peer, 20 in all\)/.test(l),
        ),
      { what: 'the log line' },
    );
    // The Unix socket cannot tell its peers apart: a new connection pushes out the oldest waiting one.
    const local = Array.from({ length: 10 }, () => rawSocket(socketPath));
    await waitFor(() => local.filter((r) => r.isClosed()).length === 7, { what: '7 of 10 pushed out' });
    const c = await connect<CliToMaster, MasterToCli>({
      socket: wsSocket,
      url: `ws+unix://${socketPath}:/`,
      key,
      role: 'user',
      user: 'u',
      replySchema: masterToCliSchema,
      timeoutMs: 2000,
    });
    assert.equal((await c.request({ type: 'clean', selector: { statuses: [], dirs: [], ranges: [] } })).type, 'cleaned');
    c.close();
    for (const r of [...tcp, ...local]) r.socket.destroy();
  });
});

test('failed handshakes of a peer slow down and are logged as counts; a right key still gets in at once', async () => {
  await withServer({ handshakeMs: 3000, refusalReportMs: 1000 }, async (port, log) => {
    let refusals = 0;
    let attempts = 0;
    const until = Date.now() + 2500;
    const attempt = () =>
      new Promise<void>((resolve) => {
        attempts++;
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
        ws.on('message', (d) => {
          const m = JSON.parse(d.toString()) as { type: string; nonce?: string };
          if (m.type === 'hello')
            ws.send(
              JSON.stringify({ type: 'auth', protocol: PROTOCOL_VERSION, role: 'user', user: 'x', nonce: 'ab', mac: '00'.repeat(32) }),
            );
          else if (m.type === 'error') refusals++;
        });
        ws.on('close', () => resolve());
        ws.on('error', () => resolve());
      });
    const worker = async () => {
      while (Date.now() < until) await attempt();
    };
    const storm = Promise.all(Array.from({ length: 20 }, worker));
    // Meanwhile the right key connects without waiting.
    await waitFor(() => refusals >= 5, { what: 'the first refusals' });
    const t = Date.now();
    const c = await connect<CliToMaster, MasterToCli>({
      socket: wsSocket,
      url: `ws://127.0.0.1:${port}/`,
      key,
      role: 'user',
      user: 'u',
      replySchema: masterToCliSchema,
      timeoutMs: 2000,
    });
    assert.ok(Date.now() - t < 1000);
    c.close();
    await storm;
    // Before: hundreds a second, each logged. Now: 5 at once, then 250 ms, 500 ms, 1 s, 2 s apart.
    assert.ok(refusals <= 10, `${refusals} refusals in 2.5 s (${attempts} attempts)`);
    assert.ok(log.filter((l) => l.startsWith('refused user')).length <= 5, log.join('\n'));
    await waitFor(() => log.some((l) => /^refused \d+ handshakes from uid \d+ .*in the last 1 s$/.test(l)), {
      what: 'the report',
      timeoutMs: 5000,
    });
  });
});
