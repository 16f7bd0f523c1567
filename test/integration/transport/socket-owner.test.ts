/**
 * src/transport/socket-owner.ts on this machine's real /proc: the owner of a
 * client socket connected from another process, and the holder of a
 * listening port; lookups that find nothing give null, never throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { userInfo } from 'node:os';
import { describePeer, peerOwner, portHolder } from '../../../src/transport/socket-owner.js';

const linux = process.platform === 'linux';

/** A child process running `code`; its first line of output is returned. */
async function child(code: string): Promise<{ p: ChildProcess; line: string }> {
  const p = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const d of p.stdout!) {
    out += d;
    if (out.includes('\n')) break;
  }
  return { p, line: out.split('\n')[0]! };
}

test('the peer of a connection from another process: its uid, user name and pid', { skip: !linux && 'needs Linux /proc' }, async () => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const { p } = await child(
    `const s = require('net').connect(${port}, '127.0.0.1', () => console.log('connected')); setInterval(() => {}, 1000);`,
  );
  try {
    const [sock] = await accepted;
    const peer = { address: sock.remoteAddress!, port: sock.remotePort! };
    const ours = { address: sock.localAddress!, port: sock.localPort! };
    const owner = await peerOwner(peer, ours);
    assert.deepEqual(owner, { uid: process.getuid!(), user: userInfo().username, pid: p.pid });
    assert.equal(await describePeer(peer, ours), `127.0.0.1:${peer.port} (uid ${process.getuid!()} ${userInfo().username}, pid ${p.pid})`);
    // A connection that does not exist: null; an address nobody uses gives the address alone.
    assert.equal(await peerOwner({ ...peer, port: peer.port === 65535 ? 65534 : peer.port + 1 }, ours), null);
    assert.equal(await describePeer({ address: '10.255.255.1', port: 1 }, ours), '10.255.255.1:1');
    assert.equal(await describePeer({}, {}), 'a local socket');
    sock.destroy();
  } finally {
    p.kill('SIGKILL');
    server.close();
  }
});

test('the holder of a listening port: uid, user name and pid; a free port: null', { skip: !linux && 'needs Linux /proc' }, async () => {
  const { p, line } = await child(
    `const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port)); setInterval(() => {}, 1000);`,
  );
  try {
    const port = Number(line);
    assert.deepEqual(await portHolder(port, '127.0.0.1'), { uid: process.getuid!(), user: userInfo().username, pid: p.pid });
    p.kill('SIGKILL');
    await once(p, 'exit');
    assert.equal(await portHolder(port, '127.0.0.1'), null);
  } finally {
    p.kill('SIGKILL');
  }
});
