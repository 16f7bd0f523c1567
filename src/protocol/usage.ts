/**
 * What a job's run used, in the words and figures `qpy check` (its checkFMT
 * codes `%W %U %M %C %P`) and `qpy why` (an ended job's efficiency, like
 * Slurm's `seff`) show. Pure, shared by the CLI and the master: both show
 * the same numbers. A run's usage is measured by its node agent (Usage in
 * job.ts) and known once it has ended.
 */
import type { Job, Outcome, Usage } from './job.js';

/**
 * What ended a run beyond its own exit, as its node agent records it (the
 * run file's status line, the `E` line): `time`, its time limit; `memory`,
 * its memory limit, kept by the agent's sampling; `cgroup`, its memory limit,
 * kept by the kernel in the job's cgroup (the kernel's OOM killer killed
 * within it); `oom`, the kernel's OOM killer, with the node out of memory.
 */
export const END_LIMITS = ['time', 'memory', 'cgroup', 'oom'] as const;
export type EndLimit = (typeof END_LIMITS)[number];

/** Is `word` one of END_LIMITS? */
export const isEndLimit = (word: string | undefined): word is EndLimit => (END_LIMITS as readonly (string | undefined)[]).includes(word);

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** A duration in ms as `H:MM:SS` or `N day(s), H:MM:SS` (whole seconds, truncated). */
export function formatDuration(ms: number): string {
  if (ms < 0) return `-${formatDuration(-ms)}`;
  const secs = Math.floor(ms / 1000);
  const days = Math.floor(secs / 86400);
  const rest = secs % 86400;
  const hms = `${Math.floor(rest / 3600)}:${pad(Math.floor((rest % 3600) / 60))}:${pad(rest % 60)}`;
  return days === 0 ? hms : `${days} day${days === 1 ? '' : 's'}, ${hms}`;
}

/** CPU time in ms as `H:MM:SS.ff` (hundredths: the agent counts in clock ticks of 10 ms). */
export function formatCpuTime(ms: number): string {
  return `${formatDuration(ms)}.${pad(Math.floor((ms % 1000) / 10))}`;
}

/** Memory in kB, in binary units as `ls -h` shows them: `512K`, `60.0M`, `1.50G`. */
export function formatKB(kb: number): string {
  if (kb < 1024) return `${Math.round(kb)}K`;
  if (kb < 1024 * 1024) return `${(kb / 1024).toFixed(1)}M`;
  return `${(kb / 1024 / 1024).toFixed(2)}G`;
}

/** A share as a percentage with one decimal: `93.4%`. */
export const formatShare = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** How a job's process ended, as `%x` shows it: `exit 3`, `signal KILL`, `lost`. */
export function formatOutcome(outcome: Outcome): string {
  switch (outcome.type) {
    case 'exit':
      return `exit ${outcome.code}`;
    case 'signal':
      return `signal ${outcome.signal.replace(/^SIG/, '')}`;
    case 'lost':
      return 'lost';
    case 'error':
      return `not started: ${outcome.message}`;
  }
}

/** `%x` of a node_failed job: how its process ended is unknown. */
export const NODE_WENT_DOWN = 'node went down';

/** The figures of a job's run (the current one: earlier runs are its attempts). */
export interface RunFigures {
  /** End − start, or now − start while it runs. */
  wallMs: number;
  /** What the run used, once it has ended and where it was measured. */
  usage: Usage | null;
  /** CPU time (user + system), or null. */
  cpuMs: number | null;
  /** CPU time ÷ (cores × wall time), or null (not measured, or no wall time to speak of). */
  cpuShare: number | null;
  /** Peak resident memory ÷ the memory asked for (`-m`), or null (not sampled, or none asked for). */
  memShare: number | null;
}

/** kB in a GB of `-m` (binary, as formatKB shows memory). */
const KB_PER_GB = 1024 * 1024;

/** The figures of a job's run, or null when it has not run (queued, undone). */
export function runFigures(job: Job, now: number): RunFigures | null {
  const s = job.state;
  if (s.type === 'queue' || s.type === 'undone') return null;
  const wallMs = Math.max(0, (s.type === 'running' ? now : s.endedAt) - s.startedAt);
  const usage = s.type === 'done' || s.type === 'failed' || s.type === 'killed' ? (s.usage ?? null) : null;
  const cpuMs = usage ? usage.userMs + usage.sysMs : null;
  const cpuShare = cpuMs !== null && wallMs > 0 ? cpuMs / (job.spec.cores * wallMs) : null;
  const peak = usage?.peakKB;
  const memShare = peak !== undefined && job.spec.memGB > 0 ? peak / (job.spec.memGB * KB_PER_GB) : null;
  return { wallMs, usage, cpuMs, cpuShare, memShare };
}

/**
 * An ended job's efficiency, like Slurm's `seff`, in lines (each ending in
 * a newline), or null when it never ran (or still runs):
 *   Job 12 ended done (exit 0) on node1; wall time 0:01:02.
 *   CPU time 0:00:58.10 (user 0:00:57.00, system 0:00:01.10): 23.4% of 4 cores × 0:01:02.
 *   Memory: peak 1.20G; 4 GB requested: 30.0%.
 */
export function efficiencyLines(job: Job): string | null {
  const s = job.state;
  const f = runFigures(job, 0);
  if (!f || s.type === 'running' || s.type === 'queue' || s.type === 'undone') return null;
  const how = s.type === 'node_failed' ? NODE_WENT_DOWN : formatOutcome(s.outcome);
  const head = `Job ${job.id} ended ${s.type}${how ? ` (${how})` : ''} on ${s.node}; wall time ${formatDuration(f.wallMs)}.\n`;
  const u = f.usage;
  if (!u || f.cpuMs === null) return `${head}Its usage was not measured.\n`;
  const cores = `${job.spec.cores} core${job.spec.cores === 1 ? '' : 's'}`;
  const share =
    f.cpuShare === null ? 'no wall time to compare it with' : `${formatShare(f.cpuShare)} of ${cores} × ${formatDuration(f.wallMs)}`;
  const cpu = `CPU time ${formatCpuTime(f.cpuMs)} (user ${formatCpuTime(u.userMs)}, system ${formatCpuTime(u.sysMs)}): ${share}.\n`;
  const peak = u.peakKB === undefined ? 'not sampled (a run of less than a second, or a node without bash 4.4)' : formatKB(u.peakKB);
  const asked = job.spec.memGB > 0 ? `${job.spec.memGB} GB requested` : 'no memory requested';
  const mem = `Memory: peak ${peak}; ${asked}${f.memShare === null ? '' : `: ${formatShare(f.memShare)}`}.\n`;
  return head + cpu + mem;
}
