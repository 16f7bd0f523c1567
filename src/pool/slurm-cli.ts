/**
 * Slurm's command-line faces for a pool's pilots (issue 18), pure: the
 * `sbatch` that submits a pilot, the `squeue` that lists a pool's pilots and
 * the `scancel` that ends them, as argument vectors (run without a shell),
 * and the parsing of what `sbatch --parsable` and `squeue` print. Whoever
 * runs them (a daemon, later) owns the processes; nothing here does I/O.
 */
import type { PoolConfig } from '../allocator/pool-line.js';

/** A command to run: the program and its arguments, with no shell between. */
export interface SlurmCommand {
  file: 'sbatch' | 'squeue' | 'scancel';
  args: string[];
}

/** A pilot as `squeue` shows it. */
export interface PilotRow {
  /** Slurm's job ID (digits). */
  jobId: string;
  /** Slurm's state in full: PENDING, CONFIGURING, RUNNING, COMPLETING, … */
  state: string;
  /** Why it waits (`Resources`, `Priority`, …); null when Slurm says None. */
  reason: string | null;
  /** The node it holds; null while it has none. */
  node: string | null;
  /** Seconds it has left (for a pending one, its whole limit); null when Slurm gives none. */
  timeLeftS: number | null;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** Every pilot of pool `pool` carries this job name, so that `squeue --name` finds them and people see whose they are. */
export function pilotJobName(pool: string): string {
  return `qpy-pilot-${pool}`;
}

/** `seconds` as Slurm reads a time limit: `HH:MM:SS`, or `D-HH:MM:SS` from a day on. */
export function slurmTime(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  const hms = `${two(Math.floor(s / 3600) % 24)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  return s >= 86_400 ? `${Math.floor(s / 86_400)}-${hms}` : hms;
}

/**
 * The `sbatch` of one pilot of `pool`: one node's worth (one task of the
 * pool's cores and memory) for the pool's time, under its account and QOS;
 * never requeued by Slurm (qpy decides what follows a pilot's end). `script`
 * is the batch script's path, `output` where its stdout and stderr go.
 */
export function sbatchPilot(pool: PoolConfig, script: string, output: string): SlurmCommand {
  const args = [
    '--parsable',
    `--job-name=${pilotJobName(pool.name)}`,
    `--partition=${pool.partition}`,
    '--nodes=1',
    '--ntasks=1',
    `--cpus-per-task=${pool.cores}`,
    `--mem=${Math.ceil(pool.memGB * 1024)}M`,
    `--time=${slurmTime(pool.timeLimitS)}`,
    '--no-requeue',
    `--output=${output}`,
  ];
  if (pool.account !== null) args.push(`--account=${pool.account}`);
  if (pool.qos !== null) args.push(`--qos=${pool.qos}`);
  args.push(script);
  return { file: 'sbatch', args };
}

/** What `sbatch --parsable` printed: `ID` or `ID;CLUSTER`. */
export function parseSbatchParsable(stdout: string): Parsed<string> {
  const line = stdout.trim();
  const m = /^([0-9]+)(?:;\S+)?$/.exec(line);
  if (!m) return { ok: false, message: `sbatch printed no job ID: "${line.slice(0, 200)}"` };
  return { ok: true, value: m[1]! };
}

/** The fields asked of squeue, in order, `|` between (none of them holds one). */
const SQUEUE_FORMAT = '%i|%T|%r|%N|%L';

/** The `squeue` listing `user`'s pilots of `pool` (only theirs: squeue lists unfinished jobs). */
export function squeuePilots(pool: PoolConfig, user: string): SlurmCommand {
  return { file: 'squeue', args: ['--noheader', `--user=${user}`, `--name=${pilotJobName(pool.name)}`, `--format=${SQUEUE_FORMAT}`] };
}

/** Seconds of a duration squeue prints (`[D-][HH:]MM:SS`); null for UNLIMITED, NOT_SET, INVALID and the like. */
export function parseSlurmDuration(text: string): number | null {
  const m = /^(?:([0-9]+)-)?(?:([0-9]+):)?([0-9]+):([0-9]+)$/.exec(text);
  if (!m) return null;
  const [d, h, min, s] = [m[1], m[2], m[3], m[4]].map((x) => Number(x ?? 0)) as [number, number, number, number];
  return ((d * 24 + h) * 60 + min) * 60 + s;
}

/** The pilots in what squeuePilots printed, or the first line it could not read. */
export function parseSqueuePilots(stdout: string): Parsed<PilotRow[]> {
  const pilots: PilotRow[] = [];
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const fields = line.split('|');
    const [jobId, state, reason, node, left] = fields as [string, string, string, string, string];
    if (fields.length !== 5 || !/^[0-9]+$/.test(jobId) || !/^[A-Z_]+$/.test(state)) {
      return { ok: false, message: `squeue line ${i + 1} is not "id|state|reason|node|time left": "${line.slice(0, 200)}"` };
    }
    pilots.push({
      jobId,
      state,
      reason: reason === '' || reason === 'None' ? null : reason,
      node: node === '' || node === '(null)' ? null : node,
      timeLeftS: parseSlurmDuration(left),
    });
  }
  return { ok: true, value: pilots };
}

/** The `scancel` ending these pilots (at least one ID). */
export function scancelPilots(jobIds: readonly string[]): SlurmCommand {
  if (jobIds.length === 0) throw new Error('scancelPilots: no job ID');
  return { file: 'scancel', args: [...jobIds] };
}
