/**
 * The daemons the frame fuzzer attacks, as FuzzTargets: a user's qpy-master
 * (the CLI's link, its user key), and qpy-multiuser as a joined user's master
 * and as the admin. Each says which valid requests it must not get (they
 * would stop the daemon, block, or act for a real user) and what to check
 * after each batch.
 */
import { join } from 'node:path';
import { connect } from '../../../src/transport/client.js';
import { wsSocket } from '../../../src/transport/ws-socket.js';
import { readKey } from '../../../src/transport/key.js';
import { pidAlive, readDiscovery } from '../../../src/discovery.js';
import { cliToMasterSchema, masterToCliSchema, type CliToMaster, type MasterToCli } from '../../../src/protocol/user-master.js';
import { allocatorToMasterSchema, masterToAllocatorSchema } from '../../../src/protocol/master-allocator.js';
import { adminToAllocatorSchema, allocatorToAdminSchema } from '../../../src/protocol/admin-allocator.js';
import type { Schema } from '../../../src/protocol/schema.js';
import type { MultiuserPaths, UserPaths } from '../../../src/config.js';
import type { FuzzTarget } from './frame-fuzz-target.js';
import type { Rng } from '../prng.js';
import { EXPRESSIONS } from './strings.js';

/** Mostly this user's own name and real node names, so that requests get past the identity check and reach the allocator. */
function tuneFor(user: string | null, nodes: string[]) {
  return (msg: Record<string, unknown>, rng: Rng): void => {
    if (user !== null && 'user' in msg && rng.chance(0.9)) msg['user'] = user;
    const demand = msg['demand'] as Record<string, unknown> | undefined;
    if (demand && rng.chance(0.3)) demand['attrs'] = rng.pick(EXPRESSIONS);
    if (nodes.length === 0) return;
    if (typeof msg['node'] === 'string' && rng.chance(0.6)) msg['node'] = rng.pick(nodes);
    if (Array.isArray(msg['running']))
      for (const s of msg['running'] as Record<string, unknown>[]) if (rng.chance(0.6)) s['node'] = rng.pick(nodes);
  };
}

const urlOf = (discovery: string) => () => `ws://127.0.0.1:${readDiscovery(discovery)!.port}/`;
const aliveOf = (discovery: string) => () => {
  const d = readDiscovery(discovery);
  return d !== null && pidAlive(d.pid);
};

/**
 * A user's master (`paths`: its QPY_DIR), reached as the CLI reaches it. Its
 * queue is paused first, so that nothing the fuzzer submits runs; `finish`,
 * `wait` and `pause false` are never sent valid. After each batch, every job
 * it lists must be one it announced (submitted, submittedMany) or had before.
 * `cwd`: the submission directory most submissions name (so that they pass).
 */
export async function masterTarget(name: string, paths: UserPaths, user: string, cwd: string): Promise<FuzzTarget> {
  const url = urlOf(paths.discovery);
  const key = () => readKey(paths.key);
  const open = () =>
    connect<CliToMaster, MasterToCli>({
      url: url(),
      socket: wsSocket,
      key: key(),
      role: 'user',
      user,
      replySchema: masterToCliSchema,
      timeoutMs: 10_000,
    });
  const c = await open();
  const known = new Set<number>();
  try {
    await c.request({ type: 'pause', paused: true });
    const ids = await c.request({ type: 'jobIds', statuses: null });
    if (ids.type === 'ids') for (const id of ids.ids) known.add(id);
  } finally {
    c.close();
  }
  return {
    name,
    tune(msg, rng) {
      const t = (msg['template'] ?? msg) as Record<string, unknown>;
      if (typeof t['cwd'] === 'string' && rng.chance(0.8)) t['cwd'] = cwd;
      if (typeof t['attrs'] === 'string') t['attrs'] = rng.chance(0.5) ? null : rng.pick(EXPRESSIONS);
    },
    url,
    key,
    role: 'user',
    user,
    requestSchema: cliToMasterSchema as Schema<unknown>,
    replySchema: masterToCliSchema as Schema<unknown>,
    forbid: (m) => m['type'] === 'finish' || m['type'] === 'wait' || (m['type'] === 'pause' && m['paused'] === false),
    status: { type: 'status' },
    alive: aliveOf(paths.discovery),
    logPath: paths.log,
    onReply(r) {
      if (r['type'] === 'submitted') known.add(r['jobId'] as number);
      if (r['type'] === 'submittedMany' && typeof r['first'] === 'number')
        for (let id = r['first']; id <= (r['last'] as number); id++) known.add(id);
    },
    async check() {
      const c2 = await open();
      try {
        const ids = await c2.request({ type: 'jobIds', statuses: null });
        if (ids.type !== 'ids') return `jobIds got ${ids.type}`;
        const unknown = ids.ids.filter((id) => !known.has(id));
        return unknown.length ? `it lists jobs no accepted request made: ${unknown.slice(0, 10).join(' ')}` : null;
      } finally {
        c2.close();
      }
    },
  };
}

/** qpy-multiuser (`paths`: its admin directory) as the master of `user`, who joined (keys/<user>.key); `nodes`: real node names to use. */
export function multiuserMasterTarget(name: string, paths: MultiuserPaths, user: string, nodes: string[] = []): FuzzTarget {
  return {
    tune: tuneFor(user, nodes),
    name,
    url: urlOf(paths.discovery),
    key: () => readKey(join(paths.keys, `${user}.key`)),
    role: 'master',
    user,
    requestSchema: masterToAllocatorSchema as Schema<unknown>,
    replySchema: allocatorToMasterSchema as Schema<unknown>,
    forbid: () => false,
    status: { type: 'status', user },
    alive: aliveOf(paths.discovery),
    logPath: paths.log,
  };
}

/**
 * qpy-multiuser as its admin (admin.key); `nodes`: real node names to use. Never sent valid: `finish`, and
 * `addUser`/`removeUser` of the users in `protect` (the test's real users).
 * After each batch its counters must be in range: no user or node below 0,
 * no node holding more cores than it has.
 */
export function multiuserAdminTarget(name: string, paths: MultiuserPaths, protect: string[], nodes: string[] = []): FuzzTarget {
  const url = urlOf(paths.discovery);
  const key = () => readKey(paths.adminKey);
  return {
    tune: tuneFor(null, nodes),
    name,
    url,
    key,
    role: 'admin',
    user: 'admin',
    requestSchema: adminToAllocatorSchema as Schema<unknown>,
    replySchema: allocatorToAdminSchema as Schema<unknown>,
    forbid: (m) =>
      m['type'] === 'finish' || ((m['type'] === 'addUser' || m['type'] === 'removeUser') && protect.includes(m['name'] as string)),
    status: { type: 'status' },
    alive: aliveOf(paths.discovery),
    logPath: paths.log,
    async check() {
      const c = await connect<
        { type: 'status' },
        {
          type: string;
          status?: {
            usedCores: number;
            users: { name: string; usedCores: number; queueSize: number }[];
            nodes: { name: string; cores: number; usedCores: number }[];
          };
        }
      >({
        url: url(),
        socket: wsSocket,
        key: key(),
        role: 'admin',
        user: 'admin',
        replySchema: allocatorToAdminSchema as never,
        timeoutMs: 10_000,
      });
      try {
        const r = await c.request({ type: 'status' });
        const st = r.status;
        if (!st) return `status got ${r.type}`;
        const bad = [
          ...st.users
            .filter((u) => u.usedCores < 0 || u.queueSize < 0)
            .map((u) => `user ${u.name} uses ${u.usedCores} cores, queue ${u.queueSize}`),
          ...st.nodes
            .filter((n) => n.usedCores < 0 || n.usedCores > n.cores)
            .map((n) => `node ${n.name} holds ${n.usedCores} of ${n.cores} cores`),
          ...(st.usedCores < 0 ? [`${st.usedCores} cores used in all`] : []),
        ];
        return bad.length ? `counters out of range: ${bad.join('; ')}` : null;
      } finally {
        c.close();
      }
    },
  };
}
