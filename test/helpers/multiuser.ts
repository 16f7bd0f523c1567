/**
 * A real qpy-multiuser daemon for tests: an admin directory of its own, the
 * daemon started as a separate process (admin/qpy-multiuser), SIGKILLed or
 * stopped by the test, and authenticated protocol clients for each role.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './qpy.js';
import { tempDir, type TempDir } from './temp.js';
import { waitFor } from './wait.js';
import { multiuserPaths, type MultiuserPaths } from '../../src/config.js';
import { pidAlive, readDiscovery } from '../../src/discovery.js';
import { connect, type Connection } from '../../src/transport/client.js';
import { wsSocket } from '../../src/transport/ws-socket.js';
import { readKey } from '../../src/transport/key.js';
import { allocatorToAdminSchema, type AdminToAllocator, type AllocatorToAdmin } from '../../src/protocol/admin-allocator.js';
import { allocatorToMasterSchema, type AllocatorFrame, type MasterToAllocator } from '../../src/protocol/master-allocator.js';
import type { Role } from '../../src/protocol/version.js';

export const QPY_MULTIUSER = join(ROOT, 'admin', 'qpy-multiuser');

export interface TestMultiuser extends AsyncDisposable {
  readonly dir: TempDir;
  readonly paths: MultiuserPaths;
  /** Start the daemon (detached, as qpy-admin start does); resolves with its stdout/stderr and exit code. */
  start(): Promise<{ code: number | null; stdout: string; stderr: string }>;
  pid(): number | null;
  port(): number;
  kill(): Promise<void>;
  admin(): Promise<Connection<AdminToAllocator, AllocatorToAdmin>>;
  master(user: string, key?: Buffer, role?: Role): Promise<Connection<MasterToAllocator, AllocatorFrame>>;
}

export function testMultiuser(files: { nodes?: string; rules?: string; users?: string[] } = {}): TestMultiuser {
  const dir = tempDir('qpy-mu-');
  const paths = multiuserPaths(join(dir.path, 'admin'));
  mkdirSync(paths.dir, { mode: 0o700 });
  if (files.nodes !== undefined) writeFileSync(paths.nodes, files.nodes);
  if (files.rules !== undefined) writeFileSync(paths.rules, files.rules);
  if (files.users !== undefined) writeFileSync(paths.allowedUsers, files.users.map((u) => u + '\n').join(''));
  const env = { ...process.env, QPY_MULTIUSER_DIR: paths.dir };
  const open: Connection<unknown, unknown>[] = [];
  const url = () => `ws://127.0.0.1:${readDiscovery(paths.discovery)!.port}/`;
  const self: TestMultiuser = {
    dir,
    paths,
    start: () =>
      new Promise((resolve) => {
        const p = spawn(process.execPath, [QPY_MULTIUSER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        p.on('close', (code) => resolve({ code, stdout, stderr }));
      }),
    pid: () => {
      const d = readDiscovery(paths.discovery);
      return d && pidAlive(d.pid) ? d.pid : null;
    },
    port: () => readDiscovery(paths.discovery)!.port,
    async kill() {
      const pid = self.pid();
      if (pid === null) return;
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !pidAlive(pid), { what: 'qpy-multiuser gone' });
    },
    async admin() {
      const c = await connect<AdminToAllocator, AllocatorToAdmin>({ url: url(), socket: wsSocket, key: readKey(paths.adminKey), role: 'admin', user: 'admin', replySchema: allocatorToAdminSchema, timeoutMs: 5000 });
      open.push(c as never);
      return c;
    },
    async master(user, key, role = 'master') {
      const c = await connect<MasterToAllocator, AllocatorFrame>({ url: url(), socket: wsSocket, key: key ?? readKey(join(paths.keys, `${user}.key`)), role, user, replySchema: allocatorToMasterSchema, timeoutMs: 5000 });
      open.push(c as never);
      return c;
    },
    async [Symbol.asyncDispose]() {
      for (const c of open) c.close();
      const pid = self.pid();
      if (pid !== null) process.kill(pid, 'SIGKILL');
      rmSync(dir.path, { recursive: true, force: true });
    },
  };
  return self;
}
