/**
 * An SSH connection attempt always settles: a server that accepts and then
 * closes the connection before the handshake is done (an sshd starting or
 * stopping, or refusing beyond MaxStartups) fails the attempt at once. Before,
 * ssh2 told only 'close' and the attempt hung, and with it the node agent's
 * link: a master never came back to a node that had crashed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { connectSsh } from '../../../src/ssh/connection.js';
import type { SshSettings } from '../../../src/ssh/ssh-config.js';
import { QpyError } from '../../../src/errors.js';
import { tempDir } from '../../helpers/temp.js';
import { keygen } from '../../helpers/sshd-cluster.js';

for (const [what, serve] of [
  ['at once', (s: Socket) => s.destroy()],
  ['after its banner', (s: Socket) => s.end('SSH-2.0-OpenSSH_9.2\r\n')],
] as const) {
  test(`a server that closes the connection ${what} fails the attempt quickly`, { timeout: 20_000 }, async () => {
    await using tmp = tempDir();
    const key = join(tmp.path, 'id');
    keygen(key);
    writeFileSync(join(tmp.path, 'known_hosts'), '');
    const server = createServer(serve);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const settings: SshSettings = {
        host: '127.0.0.1',
        port,
        user: 'nobody',
        identityFiles: [key],
        identitiesOnly: true,
        knownHostsFiles: [join(tmp.path, 'known_hosts')],
        hostKeyPolicy: 'no',
        hostKeyAlias: null,
        connectTimeoutMs: 30_000,
        agent: null,
        unsupported: null,
      };
      const t0 = Date.now();
      await assert.rejects(connectSsh('n1', settings), (e: unknown) => e instanceof QpyError && e.code === 'SSH_CONNECT');
      assert.ok(Date.now() - t0 < 5_000, `failed after ${Date.now() - t0} ms, not at the 30 s ready timeout`);
    } finally {
      server.close();
    }
  });
}
