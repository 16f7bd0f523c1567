/**
 * Finding this user's master: read the discovery file, connect and
 * authenticate; if no master runs, start one (detached) and connect to it.
 * A discovery file whose process is dead is stale and ignored.
 */
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { QpyError } from '../errors.js';
import { timing, userName, userPaths, type UserPaths } from '../config.js';
import { pidAlive, readDiscovery, type Discovery } from '../discovery.js';
import { launchDetached } from '../launch-master.js';
import { connect, type Connection } from '../transport/client.js';
import { lightSocket } from '../transport/light-socket.js';
import { readKey } from '../transport/key.js';
import { masterToCliSchema, type CliToMaster, type MasterToCli } from '../protocol/user-master.js';

export type MasterConnection = Connection<CliToMaster, MasterToCli>;

export interface ConnectContext {
  /** The package root, to find bin/qpy-master. */
  root: string;
  paths?: UserPaths;
}

/** Requests that change something: their reply is waited for longer, and a missing one is not reported as a failure. */
const CHANGES = new Set<CliToMaster['type']>([
  'submit',
  'submitMany',
  'kill',
  'clean',
  'pause',
  'jump',
  'hold',
  'requeue',
  'config',
  'notes',
  'finish',
]);
/** How long the CLI waits for the reply to a request that changes something (a kill of two million jobs takes seconds). */
export const CHANGE_REPLY_MS = 10 * 60_000;
/** After this long without a reply, a terminal hears that the master is still at work. */
const STILL_WORKING_MS = 5_000;

/**
 * `conn` with the CLI's patience: a request that changes something waits up
 * to CHANGE_REPLY_MS (the master commits before it answers, and bulk work
 * takes a while), says on a terminal that it is still waiting, and if no
 * reply comes it says that the change may still be made and how to look,
 * instead of reporting a failure.
 */
export function patient(conn: MasterConnection, stderr: { isTTY?: boolean; write(s: string): unknown } = process.stderr): MasterConnection {
  return {
    close: () => conn.close(),
    async request(message, timeoutMs) {
      if (!CHANGES.has(message.type)) return conn.request(message, timeoutMs);
      const wait = timeoutMs ?? CHANGE_REPLY_MS;
      const note =
        stderr.isTTY === true
          ? setTimeout(() => stderr.write(`qpy: qpy-master is still working on the ${message.type}…\n`), STILL_WORKING_MS)
          : null;
      try {
        return await conn.request(message, wait);
      } catch (err) {
        if (!(err instanceof QpyError) || err.code !== 'MASTER_UNREACHABLE') throw err;
        const why = /no reply within/.test(err.message)
          ? `no reply from qpy-master within ${Math.round(wait / 1000)} s`
          : `the connection to qpy-master ended before it answered (${err.message})`;
        throw new QpyError(
          'MASTER_UNREACHABLE',
          `${why}: the ${message.type} may still be done, or may have been done already`,
          `look before trying again: ${message.type === 'config' ? 'qpy config' : 'qpy check'}`,
        );
      } finally {
        if (note !== null) clearTimeout(note);
      }
    },
  };
}

/** Connect to the master described by `d`. */
export async function connectTo(d: Discovery, paths: UserPaths): Promise<MasterConnection> {
  return patient(await connectRaw(d, paths));
}

function connectRaw(d: Discovery, paths: UserPaths): Promise<MasterConnection> {
  return connect<CliToMaster, MasterToCli>({
    socket: lightSocket,
    url: `ws://${d.host.includes(':') ? `[${d.host}]` : d.host}:${d.port}/`,
    key: readKey(paths.key),
    role: 'user',
    user: userName(),
    replySchema: masterToCliSchema,
    timeoutMs: 5000,
  });
}

/** The running master, or null if none runs (stale discovery files are ignored). */
export async function findMaster(paths: UserPaths): Promise<MasterConnection | null> {
  const d = readDiscovery(paths.discovery);
  if (!d || !pidAlive(d.pid)) return null;
  try {
    return await connectTo(d, paths);
  } catch (err) {
    if (err instanceof QpyError && err.code === 'MASTER_UNREACHABLE' && !pidAlive(d.pid)) return null;
    if (err instanceof QpyError && err.code === 'MASTER_UNREACHABLE') {
      throw new QpyError('MASTER_UNREACHABLE', `qpy-master (pid ${d.pid}) is not answering`, 'try: qpy restart');
    }
    throw err;
  }
}

/** Connect to the master, starting it first if it is not running. */
export async function connectMaster(ctx: ConnectContext): Promise<MasterConnection> {
  const paths = ctx.paths ?? userPaths();
  const found = await findMaster(paths);
  if (found) return found;
  return startAndConnect(ctx.root, paths);
}

/**
 * Start a master (or find the one another CLI started at the same moment) and
 * connect. A launch that said ALREADY_RUNNING names a master that may yet fail
 * its own start: if after RELAUNCH_AFTER_MS none is found alive, launch again.
 */
export async function startAndConnect(root: string, paths: UserPaths): Promise<MasterConnection> {
  const deadline = Date.now() + timing.masterStartMs;
  for (;;) {
    const report = await launchDetached(join(root, 'bin', 'qpy-master'));
    if (report.type === 'error' && report.code !== 'ALREADY_RUNNING') {
      throw new QpyError(report.code as never, report.message, report.hint ?? `see ${paths.log}`);
    }
    const relaunchAt = report.type === 'error' ? Date.now() + RELAUNCH_AFTER_MS : Infinity;
    for (;;) {
      const conn = await findMaster(paths).catch(() => null);
      if (conn) return conn;
      if (Date.now() > deadline) throw new QpyError('MASTER_UNREACHABLE', 'qpy-master did not start in time', `see ${paths.log}`);
      if (Date.now() > relaunchAt && !masterAlive(paths)) break;
      await delay(25);
    }
  }
}

/** After a launch that found another master starting, how long to wait for it before launching again. */
const RELAUNCH_AFTER_MS = 2000;

function masterAlive(paths: UserPaths): boolean {
  const d = readDiscovery(paths.discovery);
  return d !== null && pidAlive(d.pid);
}
