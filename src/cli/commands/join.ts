/**
 * `qpy join HOST:PORT [--as NAME]`: join the cluster's shared qpy-multiuser
 * daemon with the one-time code the administrator gave you, read at a
 * prompt (not echoed) or from standard input, never from the command line
 * (../join-code.ts). Your key comes back sealed with the code
 * (transport/invite.ts) and is kept in your qpy directory (0600); your
 * master is restarted to use the daemon (running jobs go on and are adopted).
 * A daemon on the network speaks TLS: the code then carries its
 * certificate's fingerprint, which is checked before anything is sent and
 * kept (pinned) in multiuser.json for the master.
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { CommandDef } from '../command.js';
import { QpyError, invalid } from '../../errors.js';
import { userName, userPaths } from '../../config.js';
import { connect } from '../../transport/client.js';
import { lightSocket } from '../../transport/light-socket.js';
import { ensurePrivateDir } from '../../transport/key.js';
import { inviteKey, openUserKey, splitJoinCode } from '../../transport/invite.js';
import { allocatorToJoinSchema, type AllocatorToJoin, type JoinToAllocator } from '../../protocol/admin-allocator.js';
import { startAndConnect } from '../connect.js';
import { readJoinCode } from '../join-code.js';
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
    cmd
      .argument('<host:port>', 'where qpy-multiuser listens')
      .option('--as <name>', 'the user name the administrator added (default: your login name)')
      // A code typed after HOST:PORT is refused with a clear message, not commander's "too many arguments".
      .allowExcessArguments(true)
      .addHelpText(
        'after',
        '\nThe invitation code is asked for on the terminal (not shown as you type or paste it), or read\n' +
          'from the first line of standard input: qpy join HOST:PORT < FILE, or echo CODE | qpy join HOST:PORT.\n' +
          'It is never given on the command line, where other users of the machine could read it.\n',
      );
  },
  async run(ctx, args, opts) {
    const { host, port } = parseHostPort(args[0]!);
    if (args.length > 1) {
      throw invalid(
        'the invitation code is not given on the command line, where other users of this machine can read it',
        `run qpy join ${args[0]} and paste the code when asked; if others may have seen this one, ask your administrator for a new one`,
      );
    }
    const user = typeof opts['as'] === 'string' ? opts['as'] : userName();
    const { code, fingerprint } = splitJoinCode(await readJoinCode())!;
    const key = inviteKey(code, user);
    const url = `${fingerprint !== undefined ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${port}/`;
    const pin = fingerprint !== undefined ? { pin: { pinned: [fingerprint] } } : {};
    const conn = await connect<JoinToAllocator, AllocatorToJoin>({
      url,
      socket: lightSocket,
      ...pin,
      key,
      role: 'join',
      user,
      replySchema: allocatorToJoinSchema,
      timeoutMs: 10_000,
    }).catch((err: unknown) => {
      if (err instanceof QpyError && err.code === 'CERTIFICATE_MISMATCH') {
        throw new QpyError(
          'CERTIFICATE_MISMATCH',
          `qpy-multiuser at ${host}:${port} is not the one your code names: ${err.message}`,
          'someone may be intercepting the connection, or the administrator replaced the certificate after making your code: ' +
            'ask them for a new code, and compare the fingerprint it printed',
        );
      }
      if (err instanceof QpyError && err.code === 'UNAUTHENTICATED') {
        throw new QpyError(
          'UNAUTHENTICATED',
          `qpy-multiuser at ${host}:${port} refused the code for ${user}: ${err.message}`,
          'codes work once and expire after a day: ask your administrator for a new one',
        );
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
    writePrivate(paths.multiuserKey, `${openUserKey(key, reply).toString('hex')}\n`);
    writePrivate(
      paths.multiuser,
      `${JSON.stringify({
        address: host,
        port,
        user,
        ...(reply.socket !== undefined ? { socket: reply.socket } : {}),
        ...(fingerprint !== undefined ? { fingerprint } : {}),
      })}\n`,
    );
    ctx.out(
      `Joined qpy-multiuser at ${host}:${port} as ${user}${fingerprint !== undefined ? ` (TLS, certificate SHA-256 ${fingerprint})` : ''}.\n`,
    );
    await stopMaster(ctx);
    (await startAndConnect(ctx.root, paths)).close();
    ctx.out('qpy-master started: your jobs are now allocated by qpy-multiuser.\n');
  },
};
