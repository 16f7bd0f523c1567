/**
 * A pilot's link back to its master (reach=agent): connect over TLS with
 * the master's certificate pinned (role `pilot`, the pool's secret as key),
 * say `pilotHello`, serve agents (agents.ts) until the connection drops,
 * then connect again after a backoff (1 s doubling to 15 s), reading the
 * pilot file again first (a restarted master writes a new port and secret
 * there). Ends when the master says `pilotEnd` or `stop` is called.
 */
import { connect, type Connection } from '../transport/client.js';
import { wsSocket } from '../transport/ws-socket.js';
import { masterToPilotSchema, type MasterToPilot, type PilotFile, type PilotToMaster } from '../protocol/pilot.js';
import { nextRetryMs } from '../executor/retry.js';
import { pilotAgents, type PilotAgents } from './agents.js';
import { pilotUrl, readPilotFile } from './pilot-file.js';

export interface PilotOptions {
  /** The pilot file's path (read again before every connection). */
  file: string;
  /** The pilot file as read at the start (checked). */
  first: PilotFile;
  /** The Slurm job ID (SLURM_JOB_ID). */
  jobId: string;
  /** This node's host name, as the master will name it. */
  host: string;
  log(line: string): void;
  /** How long to wait for the master to answer a connection (default 10 s). */
  connectTimeoutMs?: number;
}

export interface Pilot {
  /** Resolves when the pilot is over: told `pilotEnd`, or stopped. */
  readonly done: Promise<'pilotEnd' | 'stopped'>;
  /** End it (SIGTERM): close the link and every agent's stdin. */
  stop(): void;
}

export function startPilot(opts: PilotOptions): Pilot {
  let finish!: (how: 'pilotEnd' | 'stopped') => void;
  let over: 'pilotEnd' | 'stopped' | null = null;
  const ended = new Promise<'pilotEnd' | 'stopped'>((r) => (finish = r));
  const end = (how: 'pilotEnd' | 'stopped') => {
    if (over) return;
    over = how;
    finish(how);
  };
  let file = opts.first;
  let lastProblem = '';

  /** One connection, served until it drops; resolves with why it ended. */
  async function session(): Promise<string> {
    let conn: Connection<PilotToMaster, MasterToPilot> | null = null;
    let closed!: (why: string) => void;
    const lost = new Promise<string>((r) => (closed = r));
    const agents: PilotAgents = pilotAgents((req) => void conn?.request(req).catch(() => undefined));
    try {
      conn = await connect<PilotToMaster, MasterToPilot>({
        url: pilotUrl(file),
        socket: wsSocket,
        pin: { pinned: [file.fingerprint] },
        key: Buffer.from(file.secret, 'hex'),
        role: 'pilot',
        user: file.pool,
        replySchema: masterToPilotSchema,
        timeoutMs: opts.connectTimeoutMs ?? 10_000,
        onPush(frame) {
          if (frame.type === 'pilotEnd') end('pilotEnd');
          else if (frame.type === 'error') opts.log(`the master says: ${frame.message}`);
          else agents.push(frame);
        },
        onClose: (err) => closed(err ? `${err.code}: ${err.message}` : 'the connection was closed'),
      });
      await conn.request({ type: 'pilotHello', pool: file.pool, jobId: opts.jobId, host: opts.host }, opts.connectTimeoutMs ?? 10_000);
      opts.log(`connected to the master at ${pilotUrl(file)} (pool ${file.pool}, job ${opts.jobId})`);
      lastProblem = '';
      return await Promise.race([lost, ended.then(() => 'ended')]);
    } catch (err) {
      const message = `${(err as { code?: string }).code ?? 'ERROR'}: ${(err as Error).message}`;
      if (message !== lastProblem) opts.log(`cannot connect to the master at ${pilotUrl(file)}: ${message}`);
      lastProblem = message;
      return 'refused';
    } finally {
      agents.endAll();
      conn?.close();
    }
  }

  void (async () => {
    let backoff: number | null = null;
    while (!over) {
      const why = await session();
      if (over) break;
      if (why !== 'refused') {
        opts.log(`lost the link to the master (${why}); its jobs go on; connecting again`);
        backoff = null;
      }
      backoff = nextRetryMs(backoff);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise((r) => (timer = setTimeout(r, backoff!))), ended]);
      clearTimeout(timer);
      try {
        file = readPilotFile(opts.file);
      } catch (err) {
        opts.log(`${(err as Error).message}: keeping the last good one`);
      }
    }
  })();

  return { done: ended, stop: () => end('stopped') };
}
