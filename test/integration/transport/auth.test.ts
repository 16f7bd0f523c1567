/**
 * The authenticated WebSocket link against a real server on port 0: the key
 * never travels, a recorded handshake cannot be replayed, bad frames after
 * authentication get coded error replies on a connection that stays usable.
 */
import { PROTOCOL_VERSION } from '../../../src/protocol/version.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { startServer } from '../../../src/transport/server.js';
import { connect } from '../../../src/transport/client.js';
import { wsSocket } from '../../../src/transport/ws-socket.js';
import { lightSocket } from '../../../src/transport/light-socket.js';
import { cliToMasterSchema, masterToCliSchema, type CliToMaster, type MasterToCli } from '../../../src/protocol/user-master.js';
import { QpyError } from '../../../src/errors.js';

const key = randomBytes(32);

async function withServer(fn: (port: number) => Promise<void>) {
  const server = await startServer<CliToMaster>({
    host: '127.0.0.1',
    port: 0,
    keyFor: (role) => (role === 'user' ? key : null),
    requestSchema: (role) => (role === 'user' ? cliToMasterSchema : null),
    handle: (req) => {
      if (req.type === 'status') throw new QpyError('NOT_FOUND', 'nothing here');
      if (req.type === 'finish') throw new Error('a bug');
      return { type: 'cleaned', id: req.id, count: 0 };
    },
    handshakeMs: 500,
    serverName: 'test',
    log: () => undefined,
  });
  try {
    await fn(server.port);
  } finally {
    await server.close();
  }
}

/** A raw socket that records every frame it sends and receives. */
function raw(port: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  const inbox: string[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (d) => {
    inbox.push(d.toString());
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<void>((r) => ws.on('close', () => r()));
  const next = async (n: number) => {
    while (inbox.length < n) await new Promise<void>((r) => waiters.push(r));
    return JSON.parse(inbox[n - 1]!) as Record<string, unknown>;
  };
  return { ws, next, closed, inbox };
}

for (const [name, socket] of [
  ['ws', wsSocket],
  ['light', lightSocket],
] as const)
  test(`a good key connects (${name} client); the server proves it knows the key too`, async () => {
    await withServer(async (port) => {
      const c = await connect<CliToMaster, MasterToCli>({
        socket,
        url: `ws://127.0.0.1:${port}/`,
        key,
        role: 'user',
        user: 'u',
        replySchema: masterToCliSchema,
        timeoutMs: 2000,
      });
      const r = await c.request({ type: 'clean', selector: { statuses: [], dirs: [], ranges: [] } });
      assert.equal(r.type, 'cleaned');
      await assert.rejects(c.request({ type: 'status' }), (e: unknown) => e instanceof QpyError && e.code === 'NOT_FOUND');
      await assert.rejects(c.request({ type: 'finish' }), (e: unknown) => e instanceof QpyError && e.code === 'INTERNAL');
      c.close();
      // A client talking to a server with another key notices (the server's proof fails).
      await assert.rejects(
        connect({
          socket,
          url: `ws://127.0.0.1:${port}/`,
          key: randomBytes(32),
          role: 'user',
          user: 'u',
          replySchema: masterToCliSchema,
          timeoutMs: 2000,
        }),
        (e: unknown) => e instanceof QpyError && e.code === 'UNAUTHENTICATED',
      );
    });
  });

test('a recorded handshake cannot be replayed', async () => {
  await withServer(async (port) => {
    // Record a genuine client's auth frame.
    const recorded: string[] = [];
    const real = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    const origSend = real.send.bind(real);
    (real as unknown as { send: (d: string) => void }).send = (d: string) => {
      recorded.push(d);
      origSend(d);
    };
    const { clientProof, freshNonce } = await import('../../../src/transport/auth.js');
    await new Promise<void>((resolve) => {
      real.once('message', (d) => {
        const hello = JSON.parse(d.toString()) as { nonce: string };
        const nonce = freshNonce();
        real.send(
          JSON.stringify({
            type: 'auth',
            protocol: PROTOCOL_VERSION,
            role: 'user',
            user: 'u',
            nonce,
            mac: clientProof(key, 'user', hello.nonce, nonce),
          }),
        );
        real.once('message', (w) => {
          assert.match(w.toString(), /"type":"welcome"/);
          resolve();
        });
      });
    });
    real.close();
    // Replay it on a new connection: the server's nonce differs, so it fails.
    const r = raw(port);
    await r.next(1);
    r.ws.send(recorded[0]!);
    const reply = await r.next(2);
    assert.equal(reply['code'], 'UNAUTHENTICATED');
    await r.closed;
  });
});

test('after authentication, bad frames get coded replies and the link stays usable', async () => {
  await withServer(async (port) => {
    const { clientProof, freshNonce } = await import('../../../src/transport/auth.js');
    const r = raw(port);
    const hello = await r.next(1);
    const nonce = freshNonce();
    r.ws.send(
      JSON.stringify({
        type: 'auth',
        protocol: PROTOCOL_VERSION,
        role: 'user',
        user: 'u',
        nonce,
        mac: clientProof(key, 'user', hello['nonce'] as string, nonce),
      }),
    );
    assert.equal((await r.next(2))['type'], 'welcome');
    r.ws.send('{not json');
    assert.equal((await r.next(3))['code'], 'BAD_FRAME');
    r.ws.send(JSON.stringify({ type: 'launch-missiles', id: 5 }));
    const unknown = await r.next(4);
    assert.equal(unknown['code'], 'BAD_FRAME');
    assert.equal(unknown['id'], 5);
    r.ws.send(JSON.stringify({ type: 'check', id: 6, selector: { statuses: ['bogus'], dirs: [], ranges: [] } }));
    assert.equal((await r.next(5))['code'], 'BAD_REQUEST');
    r.ws.send(JSON.stringify({ type: 'check', id: 7, pad: 'x'.repeat(2 * 1024 * 1024) }));
    const big = await r.next(6);
    assert.equal(big['code'], 'BAD_FRAME');
    assert.match(big['message'] as string, /exceeds the limit of 1048576/);
    // Too big, but its id could be read: the error names the request.
    assert.equal(big['id'], 7);
    r.ws.send(JSON.stringify({ type: 'clean', id: 8, selector: { statuses: [], dirs: [], ranges: [] } }));
    assert.deepEqual(await r.next(7), { type: 'cleaned', id: 8, count: 0 });
    r.ws.close();
  });
});

test('a wrong protocol version is refused with a clear reply', async () => {
  await withServer(async (port) => {
    const r = raw(port);
    await r.next(1);
    r.ws.send(JSON.stringify({ type: 'auth', protocol: 99, role: 'user', user: 'u', nonce: 'aa', mac: 'bb' }));
    const reply = await r.next(2);
    assert.equal(reply['code'], 'VERSION_MISMATCH');
    await r.closed;
  });
});

test('the light client reads big, fragmented and ping-interleaved messages', async () => {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  const big = 'x'.repeat(300_000);
  wss.on('connection', (ws) => {
    ws.on('message', (d) => {
      ws.ping();
      ws.send(big);
      ws.send('part1-', { fin: false });
      ws.send('part2', { fin: true });
      ws.send(`echo:${d.toString()}`);
    });
  });
  const s = lightSocket(`ws://127.0.0.1:${port}/`, { maxPayload: 1 << 20, timeoutMs: 2000 });
  const got: string[] = [];
  await new Promise<void>((resolve) => {
    s.onMessage((m) => {
      got.push(m.toString());
      if (got.length === 3) resolve();
    });
    s.send('é'.repeat(70_000));
  });
  assert.equal(got[0]!.length, 300_000);
  assert.equal(got[1], 'part1-part2');
  assert.equal(got[2], `echo:${'é'.repeat(70_000)}`);
  const closed = new Promise<void>((r) => s.onClose(r));
  s.close();
  await closed;
  wss.close();
});
