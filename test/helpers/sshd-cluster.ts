/**
 * A cluster of real OpenSSH sshd nodes on loopback (127.0.0.2, .3, …), one
 * sshd process each, for the SSH executor's tests and bench/dispatch-ssh.
 * Nodes log in as the user running the tests with a key made here, and an
 * ssh_config file (`Host nodeN`) points OpenSSH and qpy at them. Each sshd
 * sets QPY_TEST_NODE=nodeN for its sessions, so a job can tell where it ran.
 * All nodes share this machine's file system and process table.
 * With `perUserKeys` (real accounts, test/helpers/account-ssh.ts), each
 * account logs in with the key in its own ~/.ssh/authorized_keys instead,
 * under StrictModes, as on a real cluster.
 */
import { before, after } from 'node:test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.js';
import { descendants, isAlive } from './procs.js';

export const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => spawnSync('test', ['-x', p]).status === 0) ?? null;

export interface TestNode {
  name: string;
  address: string;
  port: number;
  /** Lines sshd logged: `Accepted publickey` ones count the connections made to it. */
  log: string[];
}

export interface Cluster {
  dir: string;
  nodes: TestNode[];
  /** The ssh_config file naming every node (pass as QPY_SSH_CONFIG). */
  sshConfig: string;
  knownHosts: string;
  /** Connections accepted by node i so far. */
  connections(i: number): number;
  /** Stop node i's listener; sessions already open go on (as when sshd is restarted). */
  stop(i: number): Promise<void>;
  /**
   * Node i dies as seen from the network: its listener and every sshd
   * process of its open sessions are SIGKILLed, so its connections drop and
   * new ones are refused. Jobs started there keep running (they are not sshd).
   */
  crash(i: number): Promise<void>;
  start(i: number): Promise<void>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.connect(port, host);
  });
}

/** A new ed25519 key pair without passphrase at `path` and `path`.pub. */
export function keygen(path: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

export interface ClusterOptions {
  /**
   * Accounts log in with their own ~/.ssh/authorized_keys (StrictModes on)
   * rather than the cluster's key for the user running the tests.
   */
  perUserKeys?: boolean;
  /**
   * More variables for node `name`'s sessions, beside QPY_TEST_NODE (sshd
   * SetEnv, which overrides the PATH sshd would give: a test puts a fake
   * command first on one node's PATH this way).
   */
  nodeEnv?: (name: string) => Record<string, string>;
}

/** Start `n` sshd nodes (node2 … node{n+1} on 127.0.0.2 …). */
export async function startCluster(n = 4, opts: ClusterOptions = {}): Promise<Cluster> {
  if (!SSHD) throw new Error('sshd is not installed (apt-get install openssh-server)');
  mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory, needed when run as root
  const dir = mkdtempSync(join(tmpdir(), 'qpy-sshd-'));
  const user = userInfo().username;
  keygen(join(dir, 'client_key'));
  keygen(join(dir, 'host_key'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const nodes: TestNode[] = [];
  const procs: (ChildProcess | null)[] = [];
  const known: string[] = [];
  const config: string[] = [];
  for (let i = 0; i < n; i++) {
    const address = `127.0.0.${i + 2}`;
    const name = `node${i + 2}`;
    const port = await freePort(address);
    nodes.push({ name, address, port, log: [] });
    writeFileSync(
      join(dir, `${name}.conf`),
      [
        `ListenAddress ${address}:${port}`,
        `HostKey ${join(dir, 'host_key')}`,
        `PidFile ${join(dir, `${name}.pid`)}`,
        `AuthorizedKeysFile ${opts.perUserKeys ? '.ssh/authorized_keys' : join(dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        `StrictModes ${opts.perUserKeys ? 'yes' : 'no'}`,
        'PermitRootLogin prohibit-password',
        'MaxSessions 64',
        'MaxStartups 100:30:200',
        'LogLevel INFO',
        `SetEnv ${Object.entries({ QPY_TEST_NODE: name, ...opts.nodeEnv?.(name) })
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
        '',
      ].join('\n'),
    );
    known.push(`[${address}]:${port} ${hostPub}`);
    config.push(
      `Host ${name}`,
      `  HostName ${address}`,
      `  Port ${port}`,
      `  User ${user}`,
      `  IdentityFile ${join(dir, 'client_key')}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '',
    );
    procs.push(null);
  }
  writeFileSync(join(dir, 'known_hosts'), `${known.join('\n')}\n`);
  writeFileSync(join(dir, 'ssh_config'), config.join('\n'));

  async function start(i: number): Promise<void> {
    const node = nodes[i]!;
    const conf = join(dir, `${node.name}.conf`);
    const check = spawnSync(SSHD!, ['-t', '-f', conf], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`sshd -t: ${check.stderr}`);
    const p = spawn(SSHD!, ['-D', '-e', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    procs[i] = p;
    let rest = '';
    p.stderr!.setEncoding('utf8').on('data', (d: string) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop()!;
      node.log.push(...lines);
    });
    await waitFor(async () => (await canConnect(node.address, node.port)) || p.exitCode !== null, {
      what: `sshd of ${node.name} listening`,
      timeoutMs: 10_000,
    });
    if (p.exitCode !== null) throw new Error(`sshd of ${node.name} exited: ${node.log.join('\n')}`);
  }

  async function stop(i: number): Promise<void> {
    const p = procs[i];
    procs[i] = null;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await gone;
  }

  async function crash(i: number): Promise<void> {
    const p = procs[i];
    if (!p || p.exitCode !== null || p.pid === undefined) return;
    const victims = descendants(p.pid, (c) => c.comm.startsWith('sshd'));
    procs[i] = null;
    const gone = new Promise((r) => p.once('exit', r));
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await gone;
    await waitFor(() => victims.every((pid) => !isAlive(pid)), { what: `sshd processes of ${nodes[i]!.name} gone`, timeoutMs: 10_000 });
  }

  async function close(): Promise<void> {
    await Promise.all(nodes.map((_, i) => stop(i)));
    rmSync(dir, { recursive: true, force: true });
  }

  try {
    await Promise.all(nodes.map((_, i) => start(i)));
  } catch (err) {
    await close();
    throw err;
  }
  return {
    dir,
    nodes,
    sshConfig: join(dir, 'ssh_config'),
    knownHosts: join(dir, 'known_hosts'),
    connections: (i) => nodes[i]!.log.filter((l) => l.includes('Accepted publickey')).length,
    stop,
    crash,
    start,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * For one test file: a cluster of `n` nodes started before its tests and
 * closed after them; `skip` is set (for the tests' options) when sshd is
 * not installed.
 */
export function useCluster(n: number, opts: ClusterOptions = {}): { skip: string | false; readonly cluster: Cluster } {
  const skip = SSHD ? false : 'sshd is not installed';
  let cluster: Cluster | undefined;
  before(async () => {
    if (!skip) cluster = await startCluster(n, opts);
  });
  after(async () => {
    await cluster?.close();
  });
  return {
    skip,
    get cluster() {
      if (!cluster) throw new Error('the sshd cluster is not running');
      return cluster;
    },
  };
}
