/**
 * A pool as the status document shows it (protocol/cluster.ts PoolView):
 * its settings, its pilots and the last failure of Slurm's commands. Pure.
 */
import type { PoolView } from '../protocol/cluster.js';
import type { PoolRun } from './plan.js';

/** The status document's view of a pool. */
export function view(run: PoolRun): PoolView {
  const { config } = run;
  return {
    name: config.name,
    kind: 'slurm',
    partition: config.partition,
    maxNodes: config.maxNodes,
    cores: config.cores,
    memGB: config.memGB,
    timeLimitS: config.timeLimitS,
    idleMin: config.idleMin,
    reach: config.reach,
    problem: run.problem,
    pilots: [...run.pilots.values()].map((p) => ({
      jobId: p.jobId,
      state: p.slurmState ?? 'SUBMITTED',
      reason: p.reason,
      host: p.host,
      node: p.node,
      endsAt: p.endsAt,
      connected: p.connected,
      ending: p.ending,
    })),
  };
}
