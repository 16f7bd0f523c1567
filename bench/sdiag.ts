/**
 * What bench/slurm-pool reads from Slurm's `sdiag`: the job counters since
 * the last `sdiag --reset` (submitted, started, completed, …) and the
 * "Remote Procedure Call statistics by message type" section (each message
 * type's count). `sdiag` itself is an RPC (REQUEST_STATS_INFO): the bench
 * polls it to learn when jobs end, so that type is left out of the workload's
 * figures.
 */

export interface Sdiag {
  /** `Jobs submitted:`, `Jobs started:`, … by their word (lower case). */
  jobs: Map<string, number>;
  /** Count by message type, e.g. REQUEST_SUBMIT_BATCH_JOB → 1. */
  rpcs: Map<string, number>;
}

/** The bench's own RPC: its `sdiag` polls. */
export const OWN_RPC = 'REQUEST_STATS_INFO';

export function parseSdiag(text: string): Sdiag {
  const jobs = new Map<string, number>();
  const rpcs = new Map<string, number>();
  let inTypes = false;
  for (const line of text.split('\n')) {
    const job = /^Jobs (\w+):\s*(\d+)/.exec(line);
    if (job) jobs.set(job[1]!.toLowerCase(), Number(job[2]));
    if (/^Remote Procedure Call statistics by message type/.test(line)) {
      inTypes = true;
      continue;
    }
    if (inTypes && /^\S/.test(line)) inTypes = false;
    const rpc = inTypes ? /^\s+(\w+)\s+\(\s*\d+\)\s+count:(\d+)/.exec(line) : null;
    if (rpc) rpcs.set(rpc[1]!, Number(rpc[2]));
  }
  return { jobs, rpcs };
}

export const jobCount = (s: Sdiag, word: string): number => s.jobs.get(word) ?? 0;

/** The RPCs of a workload: every type but the bench's own `sdiag`. */
export function workloadRpcs(s: Sdiag): { total: number; byType: [string, number][] } {
  const byType = [...s.rpcs].filter(([t]) => t !== OWN_RPC).sort((a, b) => b[1] - a[1]);
  return { total: byType.reduce((sum, [, n]) => sum + n, 0), byType };
}

/** The top `n` types as `TYPE count, …`. */
export function topTypes(byType: [string, number][], n = 6): string {
  return byType
    .slice(0, n)
    .map(([t, c]) => `${t} ${c}`)
    .join(', ');
}
