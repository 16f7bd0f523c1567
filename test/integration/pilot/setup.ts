/**
 * Shared setup of the pilot link's tests: a pilot hub (the master's side)
 * listening on loopback with a pool's pilot file written, the pilot program
 * started as a child process (as Slurm's batch script starts it, with
 * SLURM_JOB_ID set), and an executor (the run tracker) over the hub's
 * transport to that pilot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPilotHub, type PilotHub } from '../../../src/daemons/master/pilot-hub.js';
import { createTracker } from '../../../src/executor/tracker.js';
import type { Executor } from '../../../src/executor/executor.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
/** The compiled pilot program. */
export const PILOT_MAIN = resolve(HERE, '../../../src/pilot/main.js');

export interface Hub {
  hub: PilotHub;
  /** The pool's pilot file. */
  file: string;
  /** Every hub event, in order: `pilot JOB HOST`, `gone JOB`. */
  events: string[];
  log: string[];
}

export async function startHub(dir: string, pool = 'p1'): Promise<Hub> {
  const log: string[] = [];
  const hub = await createPilotHub({ certPath: join(dir, 'pilot-tls.pem'), log: (l) => log.push(l) });
  await hub.listen('127.0.0.1', 0);
  const file = join(dir, `pilot-${pool}.json`);
  hub.writePilotFile(pool, file, '127.0.0.1');
  const events: string[] = [];
  hub.onPilot((p, job, host) => events.push(`pilot ${p}/${job} ${host}`));
  hub.onPilotGone((p, job) => events.push(`gone ${p}/${job}`));
  return { hub, file, events, log };
}

export interface PilotProcess {
  child: ChildProcess;
  /** What it wrote on stderr so far. */
  stderr(): string;
  /** Resolves with its exit code (or signal). */
  exited: Promise<number | string>;
}

export function startPilotProcess(file: string, jobId: string | null = '101'): PilotProcess {
  const env = { ...process.env };
  delete env['SLURM_JOB_ID'];
  if (jobId !== null) env['SLURM_JOB_ID'] = jobId;
  const child = spawn(process.execPath, [PILOT_MAIN, file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  return { child, stderr: () => err, exited };
}

/** An executor on the pilot's node, through the hub; `links` records every onLink report. */
export function pilotExecutor(h: Hub, runDir: string, jobId = '101', pool = 'p1'): { ex: Executor; links: (string | null)[] } {
  const links: (string | null)[] = [];
  const ex = createTracker({
    nodeName: `pilot-${jobId}`,
    runDir,
    transport: h.hub.transportFor(pool, jobId),
    pollMs: 50,
    onLink: (p) => links.push(p),
  });
  return { ex, links };
}
