/**
 * A real qpy-multiuser daemon for tests: an admin directory of its own, the
 * daemon started as a separate process (admin/qpy-multiuser), SIGKILLed or
 * stopped by the test, and authenticated protocol clients for each role.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { QPY, qpyUser, ROOT, run, type QpyUser } from './qpy.js';
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
export const QPY_ADMIN = join(ROOT, 'admin', 'qpy-admin');

export interface TestMultiuser extends AsyncDisposable {
  readonly dir: TempDir;
  readonly paths: MultiuserPaths;
  /** The environment the daemon (and qpy-admin) run with. */
  readonly env: NodeJS.ProcessEnv;
  /** Start the daemon (detached, as qpy-admin start does); resolves with its stdout/stderr and exit code. */
  start(): Promise<{ code: number | null; stdout: string; stderr: string }>;
  pid(): number | null;
  port(): number;
  kill(): Promise<void>;
  admin(): Promise<Connection<AdminToAllocator, AllocatorToAdmin>>;
  master(
    user: string,
    key?: Buffer,
    role?: Role,
    onPush?: (frame: AllocatorFrame) => void,
  ): Promise<Connection<MasterToAllocator, AllocatorFrame>>;
  /** The daemon's log so far. */
  log(): string;
}

/**
 * `address`: written to multiuser_connection_address (off loopback the daemon speaks TLS);
 * `wrap`: a command the daemon is started under (say `ip netns exec NAME`).
 */
export function testMultiuser(
  files: { nodes?: string; rules?: string; users?: string[]; env?: NodeJS.ProcessEnv; address?: string; wrap?: string[] } = {},
): TestMultiuser {
  const dir = tempDir('qpy-mu-');
  const paths = multiuserPaths(join(dir.path, 'admin'));
  mkdirSync(paths.dir, { mode: 0o700 });
  if (files.nodes !== undefined) writeFileSync(paths.nodes, files.nodes);
  if (files.rules !== undefined) writeFileSync(paths.rules, files.rules);
  if (files.users !== undefined) writeFileSync(paths.allowedUsers, files.users.map((u) => `${u}\n`).join(''));
  if (files.address !== undefined) writeFileSync(paths.address, `${files.address}\n`);
  const env = { ...process.env, ...files.env, QPY_MULTIUSER_DIR: paths.dir };
  const open: Connection<unknown, unknown>[] = [];
  const self: TestMultiuser = {
    dir,
    paths,
    env,
    start: () =>
      new Promise((resolve) => {
        const [cmd, ...args] = [...(files.wrap ?? []), process.execPath, QPY_MULTIUSER];
        const p = spawn(cmd!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
      const c = await connect<AdminToAllocator, AllocatorToAdmin>({
        ...daemonAt(paths.discovery),
        socket: wsSocket,
        key: readKey(paths.adminKey),
        role: 'admin',
        user: 'admin',
        replySchema: allocatorToAdminSchema,
        timeoutMs: 5000,
      });
      open.push(c as never);
      return c;
    },
    log: () => {
      try {
        return readFileSync(paths.log, 'utf8');
      } catch {
        return '';
      }
    },
    async master(user, key, role = 'master', onPush) {
      const c = await masterConnection(paths.discovery, user, key ?? readKey(join(paths.keys, `${user}.key`)), role, onPush);
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

/** The URL of the daemon advertised in `discovery` (its multiuser.json): wss:// with its certificate pinned when it listens off loopback. */
export function daemonAt(discovery: string): { url: string; pin?: { pinned: string[] } } {
  const d = readDiscovery(discovery)!;
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  return d.fingerprint !== undefined
    ? { url: `wss://${host}:${d.port}/`, pin: { pinned: [d.fingerprint] } }
    : { url: `ws://${host}:${d.port}/` };
}

/** A connection speaking for `user` with `key` (a master's, or a stolen one) to the daemon advertised in `discovery` (its multiuser.json). */
export function masterConnection(
  discovery: string,
  user: string,
  key: Buffer,
  role: Role = 'master',
  onPush?: (frame: AllocatorFrame) => void,
): Promise<Connection<MasterToAllocator, AllocatorFrame>> {
  return connect<MasterToAllocator, AllocatorFrame>({
    ...daemonAt(discovery),
    socket: wsSocket,
    key,
    role,
    user,
    replySchema: allocatorToMasterSchema,
    timeoutMs: 5000,
    ...(onPush ? { onPush } : {}),
  });
}

/** Run qpy-admin for this daemon; its stdout, or a thrown error with its stderr. */
export async function admin(mu: TestMultiuser, args: string[]): Promise<string> {
  const r = await run(QPY_ADMIN, args, mu.dir.path, mu.env);
  if (r.code !== 0) throw new Error(`qpy-admin ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** The command and the code that `qpy-admin users add` printed, apart. */
export function invitation(added: string): { hostPort: string; code: string } {
  const hostPort = /^ {4}qpy join (\S+)$/m.exec(added)?.[1];
  const code = /^ {4}([a-z2-7]{26}(?:[a-z2-7]{52})?)$/m.exec(added)?.[1];
  assert.ok(hostPort && code, added);
  return { hostPort, code };
}

/** A simulated user (QPY_USER=name, a QPY_DIR of its own) that the admin added and that joined with the printed command, the code on its standard input. */
export async function joinedUser(mu: TestMultiuser, name: string, env: NodeJS.ProcessEnv = {}): Promise<QpyUser> {
  const { hostPort, code } = invitation(await admin(mu, ['users', 'add', name]));
  const u = qpyUser({ env: { ...env, QPY_USER: name } });
  const r = await run(QPY, ['join', hostPort], u.work, u.env, `${code}\n`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Joined qpy-multiuser at 127\\.0\\.0\\.1:\\d+ as ${name}\\.$`, 'm'));
  return u;
}
