/**
 * A site as a research group would set it up, with real Unix accounts, for
 * one e2e test file: an admin account (runs qpy-multiuser from its own
 * ~/.qpy-multiuser), users alice, bob and carol, and mallory, a local account
 * never added; sshd nodes that each account logs into with its own key
 * (account-ssh.ts). Everyone uses the checkout's bin/ and admin/ on PATH (as
 * a shared install would put them). Made before the file's tests, removed
 * after them (accounts, their processes and homes, the nodes), or skipped with
 * the reason when not root.
 */
import { before, after } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAccounts, realAccountsSkip, type Account, type Accounts, type RunOptions } from './accounts.js';
import { giveSshAccess } from './account-ssh.js';
import { SSHD, startCluster, type Cluster } from './sshd-cluster.js';
import { QPY, type RunResult } from './qpy.js';
import { QPY_ADMIN } from './multiuser.js';
import { multiuserPaths, userPaths, type MultiuserPaths, type UserPaths } from '../../src/config.js';
import type { ClusterStatus } from '../../src/protocol/cluster.js';

export interface Invite {
  /** HOST:PORT from the `qpy join` line. */
  hostPort: string;
  code: string;
}

export interface Site {
  readonly accounts: Accounts;
  readonly cluster: Cluster;
  readonly admin: Account;
  readonly alice: Account;
  readonly bob: Account;
  readonly carol: Account;
  readonly mallory: Account;
  /** The admin's ~/.qpy-multiuser and its files. */
  readonly paths: MultiuserPaths;
  /** A user's ~/.qpy and its files. */
  qpyPaths(u: Account): UserPaths;
  /** `qpy ARGS` as `u`, in its home. */
  qpy(u: Account, args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Likewise; fails unless it exits 0. Returns stdout. */
  ok(u: Account, args: string[]): Promise<string>;
  /** `qpy-admin ARGS` as the admin (or `as`). */
  qpyAdmin(args: string[], as?: Account, opts?: RunOptions): Promise<RunResult>;
  adminOk(args: string[]): Promise<string>;
  /** `qpy-admin status --json`, as the admin. */
  status(): Promise<ClusterStatus>;
  /** `qpy-admin users add NAME`: the command and code it printed. */
  invite(u: Account): Promise<Invite>;
  /**
   * `u` joins with `inv`, the code on standard input (`qpy join HOST:PORT`).
   * A qpy whose join still wants the code as an argument gets it there
   * (`legacy`), as users had to.
   */
  join(u: Account, inv: Invite, extra?: string[]): Promise<RunResult & { legacy: boolean }>;
  /** The pid in `u`'s master.json, or null. */
  masterPid(u: Account): number | null;
}

/** The HOST:PORT of the `qpy join` line, and the code: the one 26-letter base32 word, on that line or its own. */
export function parseInvite(text: string): Invite {
  const hostPort = /^\s*qpy join (\S+)/m.exec(text)?.[1];
  const codes = [...new Set(text.match(/(?<![\w.-])[a-z2-7]{26}(?![\w.-])/g) ?? [])];
  if (!hostPort || codes.length !== 1) throw new Error(`no qpy join line and code in:\n${text}`);
  return { hostPort, code: codes[0]! };
}

export interface SiteOptions {
  nodes: number;
  /** Environment of qpy-admin and so of qpy-multiuser. */
  adminEnv?: NodeJS.ProcessEnv;
  /** Environment of every user's qpy (and so of their masters). */
  userEnv?: NodeJS.ProcessEnv;
}

export function useSite(opts: SiteOptions): { skip: string | false; readonly site: Site } {
  const skip = realAccountsSkip() || (SSHD ? false : 'sshd is not installed (apt-get install openssh-server)');
  let site: Site | undefined;
  let accounts: Accounts | undefined;
  let cluster: Cluster | undefined;
  before(async () => {
    if (skip) return;
    accounts = createAccounts(['admin', 'alice', 'bob', 'carol', 'mallory']);
    cluster = await startCluster(opts.nodes, { perUserKeys: true });
    for (const role of ['admin', 'alice', 'bob', 'carol', 'mallory']) giveSshAccess(cluster, accounts.get(role));
    site = makeSite(accounts, cluster, opts);
  });
  after(async () => {
    accounts?.close(); // first: no master or daemon left to reconnect to the nodes
    await cluster?.close();
  });
  return {
    skip,
    get site() {
      if (!site) throw new Error('the site was not set up');
      return site;
    },
  };
}

function makeSite(accounts: Accounts, cluster: Cluster, opts: SiteOptions): Site {
  const admin = accounts.get('admin');
  const paths = multiuserPaths(join(admin.home, '.qpy-multiuser'));
  const qpyPaths = (u: Account) => userPaths(join(u.home, '.qpy'));
  const qpy = (u: Account, args: string[], o: RunOptions = {}) => accounts.run(u, QPY, args, { ...o, env: { ...opts.userEnv, ...o.env } });
  const qpyAdmin = (args: string[], as = admin, o: RunOptions = {}) =>
    accounts.run(as, QPY_ADMIN, args, { ...o, env: { ...opts.adminEnv, ...o.env } });
  const must = (what: string, r: RunResult): string => {
    if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const site: Site = {
    accounts,
    cluster,
    admin,
    alice: accounts.get('alice'),
    bob: accounts.get('bob'),
    carol: accounts.get('carol'),
    mallory: accounts.get('mallory'),
    paths,
    qpyPaths,
    qpy,
    ok: async (u, args) => must(`qpy ${args.join(' ')} (as ${u.name})`, await qpy(u, args)),
    qpyAdmin,
    adminOk: async (args) => must(`qpy-admin ${args.join(' ')}`, await qpyAdmin(args)),
    status: async () => JSON.parse(must('qpy-admin status --json', await qpyAdmin(['status', '--json']))) as ClusterStatus,
    invite: async (u) => parseInvite(must(`qpy-admin users add ${u.name}`, await qpyAdmin(['users', 'add', u.name]))),
    async join(u, inv, extra = []) {
      const r = await qpy(u, ['join', inv.hostPort, ...extra], { input: `${inv.code}\n` });
      if (r.code !== 0 && /missing required argument|<code>/i.test(r.stderr))
        return { ...(await qpy(u, ['join', inv.hostPort, inv.code, ...extra])), legacy: true };
      return { ...r, legacy: false };
    },
    masterPid(u) {
      try {
        return (JSON.parse(readFileSync(qpyPaths(u).discovery, 'utf8')) as { pid: number }).pid;
      } catch {
        return null;
      }
    },
  };
  return site;
}
