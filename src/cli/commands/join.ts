/**
 * `qpy join HOST:PORT CODE [--as NAME]`: join the cluster's shared
 * qpy-multiuser daemon with the one-time code the administrator gave you.
 * Your key comes back sealed with the code (transport/invite.ts) and is kept
 * in your qpy directory (0600); your master is restarted to use the daemon
 * (running jobs go on and are adopted).
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { CommandDef } from '../command.js';
import { QpyError, invalid } from '../../errors.js';
import { userName, userPaths } from '../../config.js';
import { connect } from '../../transport/client.js';
import { lightSocket } from '../../transport/light-socket.js';
import { ensurePrivateDir } from '../../transport/key.js';
import { inviteKey, openUserKey } from '../../transport/invite.js';
import { allocatorToJoinSchema, type AllocatorToJoin, type JoinToAllocator } from '../../protocol/admin-allocator.js';
import { startAndConnect } from '../connect.js';
import { stopMaster } from './lifecycle.js';

/** `host:port`, `[v6]:port`. */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw invalid(`"${text}" is not HOST:PORT`, 'copy it from the line your administrator sent');
  return { host: (m[1] ?? m[2])!, port };
}

function writePrivate(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

export const join: CommandDef = {
  name: 'join',
  summary: 'Join the cluster’s shared qpy-multiuser with the code from your administrator',
  configure(cmd) {
    cmd.argument('<host:port>', 'where qpy-multiuser listens').argument('<code>', 'the one-time invitation code').option('--as <name>', 'the user name the administrator added (default: your login name)');
  },
  async run(ctx, args, opts) {
    const { host, port } = parseHostPort(args[0]!);
    const user = typeof opts['as'] === 'string' ? opts['as'] : userName();
    const code = args[1]!.trim();
    const key = inviteKey(code, user);
    const url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}/`;
    const conn = await connect<JoinToAllocator, AllocatorToJoin>({ url, socket: lightSocket, key, role: 'join', user, replySchema: allocatorToJoinSchema, timeoutMs: 10_000 }).catch((err: unknown) => {
      if (err instanceof QpyError && err.code === 'UNAUTHENTICATED') {
        throw new QpyError('UNAUTHENTICATED', `qpy-multiuser at ${host}:${port} refused the code for ${user}`, 'codes work once and expire after a day: ask your administrator for a new one');
      }
      if (err instanceof QpyError) throw new QpyError(err.code, `cannot reach qpy-multiuser at ${host}:${port}: ${err.message}`);
      throw err;
    });
    let reply: AllocatorToJoin;
    try {
      reply = await conn.request({ type: 'join' });
    } finally {
      conn.close();
    }
    if (reply.type !== 'joined') return;
    const paths = userPaths();
    ensurePrivateDir(paths.dir);
    writePrivate(paths.multiuserKey, openUserKey(key, reply).toString('hex') + '\n');
    writePrivate(paths.multiuser, JSON.stringify({ address: host, port, user }) + '\n');
    ctx.out(`Joined qpy-multiuser at ${host}:${port} as ${user}.\n`);
    await stopMaster(ctx);
    (await startAndConnect(ctx.root, paths)).close();
    ctx.out('qpy-master started: your jobs are now allocated by qpy-multiuser.\n');
  },
};
