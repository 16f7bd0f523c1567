/**
 * What `qpy why` says of Slurm pools (issue 18), from the status document:
 * for a pilot's node, whether its time left allows the job; for each pool,
 * what its pilots are doing (pending in Slurm and why, submitted, all in
 * use, or a failing sbatch), so that a job waiting for a pilot says so:
 * `pool big: waiting for Slurm to start a pilot (job 1234, pending: Resources)`.
 */
import type { NodeView, PoolView } from '../protocol/cluster.js';
import { formatTimeLimit } from '../protocol/time-limit.js';

/** Why a pilot's node cannot take a job of `time` seconds (undefined: no -t) for lack of time, or null. */
export function pilotTimeWhy(n: NodeView, time: number | undefined): string | null {
  const p = n.pilot;
  if (p === undefined) return null;
  if (time === undefined && !p.untimed)
    return `its Slurm pilot (job ${p.jobId}) nears its time limit: it takes only jobs with a -t that ends before it`;
  if (time !== undefined && p.maxJobS !== null && time > p.maxJobS)
    return `its Slurm pilot (job ${p.jobId}) ends too soon for a job of -t ${formatTimeLimit(time)} (at most ${formatTimeLimit(p.maxJobS)} left)`;
  return null;
}

/** One line per pool: what its pilots are doing for the jobs that wait. */
export function poolLines(pools: readonly PoolView[]): string[] {
  return pools.map((pool) => {
    const starting = pool.pilots.filter((p) => p.node === null && p.ending === null);
    const pending = starting.filter((p) => p.state === 'PENDING');
    const named = (ps: typeof starting) => `job${ps.length === 1 ? '' : 's'} ${ps.map((p) => p.jobId).join(', ')}`;
    let what: string;
    if (pending.length > 0) {
      const reasons = [...new Set(pending.map((p) => p.reason ?? 'no reason given'))].join(', ');
      what = `waiting for Slurm to start a pilot (${named(pending)}, pending: ${reasons})`;
    } else if (starting.length > 0) what = `a pilot is starting in Slurm (${named(starting)})`;
    else if (pool.problem !== null) what = `no pilot could be submitted: ${pool.problem}`;
    else {
      const live = pool.pilots.filter((p) => p.ending === null).length;
      what =
        live >= pool.maxNodes
          ? `all ${pool.maxNodes} of its pilots run (nodes=${pool.maxNodes})`
          : `no pilot waits in Slurm now (${live} of ${pool.maxNodes} running; qpy submits one while jobs wait)`;
    }
    return `pool ${pool.name}: ${what}`;
  });
}
