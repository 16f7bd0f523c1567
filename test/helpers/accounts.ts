/**
 * Real Unix accounts for tests that need them (CI runs as root): accounts
 * with names unique to the run (`qa<hex>-alice`, ≤ 32 characters), homes
 * under a temporary directory, `usermod -p '*'` so that sshd with
 * `UsePAM no` lets key logins in. Commands run as an account through
 * `setpriv` with a clean environment (HOME, USER, LOGNAME, PATH and what the
 * test adds), as if that user had logged in. `close()` SIGKILLs every process
 * of the accounts and removes them (userdel -r), also when a test failed, and
 * at process exit as a last resort.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT, type RunResult } from './qpy.js';

export interface Account {
  /** The login name, e.g. qa1f2e3d-alice. */
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

const tool = (name: string): string | null =>
  ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].map((d) => join(d, name)).find((p) => spawnSync('test', ['-x', p]).status === 0) ?? null;

/** Files of the checkout (and node) that every account must be able to reach and read. */
function neededByOthers(): string[] {
  return [
    process.execPath,
    join(ROOT, 'bin', 'qpy'),
    join(ROOT, 'admin', 'qpy-admin'),
    join(ROOT, 'dist', 'bundle', 'qpy.cjs'),
    join(ROOT, 'dist', 'src', 'daemons', 'multiuser', 'main.js'),
    join(realpathSync(join(ROOT, 'node_modules')), 'better-sqlite3', 'package.json'),
    tmpdir(),
  ];
}

/** The first of `paths` that another account could not reach (every parent o+x) and read (o+r), with why; or null. */
function blockedForOthers(paths: string[]): string | null {
  for (const path of paths) {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return `${path} does not exist (run npm run build)`;
    }
    for (let dir = dirname(real); ; dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0)
        return `${dir} is not searchable by other users (chmod o+x ${dir}), so they cannot reach ${path}`;
      if (dir === '/') break;
    }
    if ((statSync(real).mode & 0o004) === 0) return `${real} is not readable by other users`;
  }
  return null;
}

/** Why tests with real accounts cannot run here, or false when they can. */
export function realAccountsSkip(): string | false {
  if (!isRoot()) return 'needs root: it creates real Unix accounts (useradd) and runs commands as them (CI runs as root)';
  const missing = ['useradd', 'usermod', 'userdel', 'setpriv', 'pkill', 'pgrep'].filter((t) => tool(t) === null);
  if (missing.length) return `missing ${missing.join(', ')} (Debian packages passwd, util-linux, procps)`;
  const blocked = blockedForOthers(neededByOthers());
  return blocked ? `the accounts cannot run this checkout: ${blocked}` : false;
}

export interface Accounts {
  /** Accounts by the role names given to createAccounts. */
  readonly get: (role: string) => Account;
  /** The environment a command runs with as `a` (a login's, plus `extra`). */
  env(a: Account, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Run FILE ARGS as `a` (cwd: its home) to the end; `input` is written to its stdin. */
  run(a: Account, file: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Start a long-lived process as `a` (SIGKILLed by close at the latest). */
  spawn(a: Account, file: string, args: string[], opts?: Omit<RunOptions, 'input' | 'timeoutMs'>): ChildProcess;
  /** Kill every process of the accounts and remove them with their homes. */
  close(): void;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

/** PATH for the accounts: the checkout's bin/ and admin/ first (as a shared install would put them), then node's directory. */
export const ACCOUNT_PATH = [join(ROOT, 'bin'), join(ROOT, 'admin'), dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin']
  .filter((d, i, all) => all.indexOf(d) === i)
  .join(':');

function sh(cmd: string, args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

/** Create one account per role (`qa<hex>-<role>`), homes under a fresh temporary directory. */
export function createAccounts(roles: string[]): Accounts {
  const prefix = `qa${randomBytes(3).toString('hex')}`;
  const base = mkdtempSync(join(tmpdir(), 'qpy-homes-'));
  chmodSync(base, 0o755); // every account reaches its own home (and sshd's StrictModes stops at the home)
  const made: Account[] = [];
  const byRole = new Map<string, Account>();
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    process.removeListener('exit', close);
    for (const a of made) {
      // Kill until none is left: a dying master may still fork, an sshd session may still start.
      for (let i = 0; i < 50 && sh('pgrep', ['-u', a.name]).status === 0; i++) {
        sh('pkill', ['-KILL', '-u', a.name]);
        spawnSync('sleep', ['0.05']);
      }
      const r = sh('userdel', ['-r', a.name]);
      if (r.status !== 0) process.stderr.write(`userdel -r ${a.name} exited ${r.status}: ${r.stderr}`);
    }
    rmSync(base, { recursive: true, force: true });
  };
  process.once('exit', close);
  try {
    for (const role of roles) {
      const name = `${prefix}-${role}`.slice(0, 32);
      const home = join(base, role);
      let r = sh('useradd', ['-m', '-d', home, '-s', '/bin/bash', '-U', name]);
      if (r.status !== 0) throw new Error(`useradd ${name}: ${r.stderr}`);
      made.push({ name, uid: -1, gid: -1, home });
      r = sh('usermod', ['-p', '*', name]); // not locked ('!'): sshd with UsePAM no refuses locked accounts
      if (r.status !== 0) throw new Error(`usermod ${name}: ${r.stderr}`);
      const st = statSync(home);
      const a = made.at(-1)!;
      a.uid = st.uid;
      a.gid = st.gid;
      byRole.set(role, a);
    }
  } catch (err) {
    close();
    throw err;
  }
  const env = (a: Account, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    HOME: a.home,
    USER: a.name,
    LOGNAME: a.name,
    SHELL: '/bin/bash',
    PATH: ACCOUNT_PATH,
    LANG: 'C.UTF-8',
    ...extra,
  });
  const spawnAs = (a: Account, file: string, args: string[], opts: RunOptions = {}): ChildProcess =>
    spawn('setpriv', [`--reuid=${a.uid}`, `--regid=${a.gid}`, '--init-groups', '--', file, ...args], {
      cwd: opts.cwd ?? a.home,
      env: env(a, opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  return {
    get: (role) => {
      const a = byRole.get(role);
      if (!a) throw new Error(`no account for ${role}`);
      return a;
    },
    env,
    run: (a, file, args, opts = {}) =>
      new Promise((resolve) => {
        const p = spawnAs(a, file, args, opts);
        let stdout = '';
        let stderr = '';
        p.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        p.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        p.stdin!.on('error', () => undefined); // a command that does not read its stdin
        p.stdin!.end(opts.input ?? '');
        const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
        p.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}(killed by ${signal})` : stderr });
        });
      }),
    spawn: (a, file, args, opts) => {
      const p = spawnAs(a, file, args, opts);
      p.stdin!.on('error', () => undefined);
      return p;
    },
    close,
  };
}
