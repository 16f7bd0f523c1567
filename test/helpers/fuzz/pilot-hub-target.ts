/**
 * A user's qpy-master's pilot hub (issue 18, reach=agent) as a FuzzTarget:
 * the TLS listener that a Slurm pool's pilots connect back to, reached as a
 * pilot reaches it (wss, the hub's certificate pinned, role `pilot`, the
 * pool's secret as key: all read from the pool's pilot file). Also the
 * checks around a run: the master's memory (VmRSS), and a genuine pilot
 * program connecting once the fuzzing is over.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pidAlive, readDiscovery } from '../../../src/discovery.js';
import { masterToPilotSchema, pilotToMasterSchema } from '../../../src/protocol/pilot.js';
import type { Schema } from '../../../src/protocol/schema.js';
import { pilotUrl, readPilotFile } from '../../../src/pilot/pilot-file.js';
import type { UserPaths } from '../../../src/config.js';
import type { FuzzTarget } from './frame-fuzz-target.js';
import { waitFor } from '../wait.js';

/** The compiled pilot program (dist/test/helpers/fuzz → dist/src/pilot). */
const PILOT_MAIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../src/pilot/main.js');
/** Slurm job IDs the fuzzer's hellos mostly claim: a few, so that connections replace each other. */
const JOB_IDS = ['101', '102', '103', '7', '0'];
/** The hub's pushes (frames without an id). */
const PUSH = /^\{"type":"(agentOpen|agentInput|agentEnd|readRange|pilotEnd)"/;

/**
 * The pilot hub of the master whose QPY_DIR is `paths`, for its pool whose
 * pilot file is `file`. After each batch a fresh link must get its
 * `pilotHello` welcomed.
 */
export function pilotHubTarget(name: string, paths: UserPaths, file: string): FuzzTarget {
  const pool = readPilotFile(file).pool;
  return {
    name,
    url: () => pilotUrl(readPilotFile(file)),
    pin: () => ({ pinned: [readPilotFile(file).fingerprint] }),
    key: () => Buffer.from(readPilotFile(file).secret, 'hex'),
    role: 'pilot',
    user: pool,
    requestSchema: pilotToMasterSchema as Schema<unknown>,
    replySchema: masterToPilotSchema as Schema<unknown>,
    forbid: () => false,
    status: { type: 'pilotHello', pool, jobId: '999', host: 'fuzz-probe' },
    statusReply: 'pilotWelcome',
    isPush: (text) => PUSH.test(text),
    // One hello per connection: after a welcome the link is often dropped, so that the next hello is heard.
    relink: (reply, rng) => reply['type'] === 'pilotWelcome' && rng.chance(0.4),
    tune(msg, rng) {
      if (msg['type'] !== 'pilotHello') return;
      if (rng.chance(0.9)) msg['pool'] = pool;
      if (rng.chance(0.6)) msg['jobId'] = rng.pick(JOB_IDS);
    },
    alive() {
      const d = readDiscovery(paths.discovery);
      return d !== null && pidAlive(d.pid);
    },
    logPath: paths.log,
  };
}

/** The resident memory of process `pid`, in MiB, or null. */
export function rssMiB(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Math.round(Number(kb) / 1024);
  } catch {
    return null;
  }
}

/**
 * Start the real pilot program on pilot file `file` as Slurm job `jobId`
 * and wait until the master (its log `logPath`) says it connected; then stop
 * it. Null if it did, else what went wrong.
 */
export async function genuinePilotConnects(file: string, logPath: string, jobId = '4242'): Promise<string | null> {
  const env = { ...process.env, SLURM_JOB_ID: jobId };
  const child = spawn(process.execPath, [PILOT_MAIN, file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const said = `pilot ${jobId} of pool ${readPilotFile(file).pool} connected from ${hostname()}`;
  try {
    await waitFor(() => readFileSync(logPath, 'utf8').includes(said), { what: `"${said}" in the master's log`, timeoutMs: 15_000 });
    return null;
  } catch (e) {
    return `a genuine pilot did not connect to ${pilotUrl(readPilotFile(file))}: ${(e as Error).message}; the pilot said: ${err.trim()}`;
  } finally {
    child.kill('SIGTERM');
  }
}
