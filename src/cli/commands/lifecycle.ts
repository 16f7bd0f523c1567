/**
 * `qpy finish` and `qpy restart`: stop the master (running jobs go on: they
 * are detached and the next master adopts them), and start it again.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { CommandDef, CliContext } from '../command.js';
import { QpyError } from '../../errors.js';
import { userPaths } from '../../config.js';
import { pidAlive, readDiscovery } from '../../discovery.js';
import { findMaster, startAndConnect } from '../connect.js';
import { plural } from '../format-replies.js';

/** Ask the running master to stop and wait until its process is gone. Returns false if none ran. */
export async function stopMaster(ctx: CliContext): Promise<boolean> {
  const paths = userPaths();
  let conn: Awaited<ReturnType<typeof findMaster>>;
  try {
    conn = await findMaster(paths);
  } catch (err) {
    // A master of another protocol version (an upgrade): it cannot be asked, so it is told by signal.
    if (!(err instanceof QpyError && err.code === 'VERSION_MISMATCH')) throw err;
    const d = readDiscovery(paths.discovery);
    if (!d) return false;
    process.kill(d.pid, 'SIGTERM');
    await waitGone(d.pid);
    ctx.out('qpy-master (an older version) stopped.\n');
    return true;
  }
  if (!conn) return false;
  const reply = await conn.request({ type: 'finish' });
  conn.close();
  if (reply.type !== 'finishing') return true;
  await waitGone(reply.pid);
  const jobs = reply.running === 0 ? '' : ` ${plural(reply.running)} keep${reply.running === 1 ? 's' : ''} running.`;
  ctx.out(`qpy-master stopped.${jobs}\n`);
  return true;
}

async function waitGone(pid: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) throw new QpyError('MASTER_UNREACHABLE', `qpy-master (pid ${pid}) did not stop within 30 s`);
    await delay(20);
  }
}

export const finish: CommandDef = {
  name: 'finish',
  summary: 'Stop qpy-master (running jobs keep running)',
  configure() {},
  async run(ctx) {
    if (!(await stopMaster(ctx))) throw new QpyError('MASTER_UNREACHABLE', 'qpy-master is not running');
  },
};

export const restart: CommandDef = {
  name: 'restart',
  summary: 'Restart qpy-master (running jobs keep running and are adopted)',
  configure() {},
  async run(ctx) {
    await stopMaster(ctx);
    const conn = await startAndConnect(ctx.root, userPaths());
    conn.close();
    ctx.out('qpy-master started.\n');
  },
};
