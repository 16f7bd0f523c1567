/**
 * The program a Slurm pool's pilot runs with `reach=agent`:
 * `node <qpy>/dist/src/pilot/main.js PILOT-FILE`, with SLURM_JOB_ID set by
 * Slurm. It connects back to the user's master and serves the node agent
 * over that link (pilot.ts). A bad pilot file or no job ID: one line on
 * stderr, exit 1. Told `pilotEnd`, or sent SIGTERM or SIGINT: exit 0.
 */
import { hostname } from 'node:os';
import { QpyError } from '../errors.js';
import { SLURM_JOB_ID } from '../protocol/pilot.js';
import { readPilotFile } from './pilot-file.js';
import { startPilot } from './pilot.js';

const log = (line: string) => process.stderr.write(`qpy-pilot: ${new Date().toISOString()} ${line}\n`);

function fail(err: unknown): never {
  const e = err instanceof QpyError ? err : new QpyError('INTERNAL', (err as Error).message);
  process.stderr.write(`qpy-pilot: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
  process.exit(1);
}

const [path, ...rest] = process.argv.slice(2);
if (path === undefined || rest.length > 0) fail(new QpyError('INVALID_ARGUMENT', 'usage: node pilot/main.js PILOT-FILE'));
const jobId = process.env['SLURM_JOB_ID'] ?? '';
if (!SLURM_JOB_ID.test(jobId))
  fail(new QpyError('INVALID_ARGUMENT', 'SLURM_JOB_ID is not set (or not a job ID)', 'the pilot runs as a Slurm batch job'));
let first: ReturnType<typeof readPilotFile>;
try {
  first = readPilotFile(path);
} catch (err) {
  fail(err);
}
const pilot = startPilot({ file: path, first, jobId, host: hostname(), log });
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => pilot.stop());
const how = await pilot.done;
log(how === 'pilotEnd' ? 'the master lets this pilot go: exiting' : 'stopped: exiting');
process.exit(0);
