/**
 * Builders shared by the Slurm pool unit tests (issue 18): a pool's config,
 * its run, pilots in each stage of their life, and squeue rows.
 */
import type { PoolConfig } from '../../../src/allocator/pool-line.js';
import { newPilot, type Pilot } from '../../../src/pool/pilots.js';
import { newPoolRun, pilotNode, type NodeUse, type PoolRun } from '../../../src/pool/plan.js';
import type { PilotRow } from '../../../src/pool/slurm-cli.js';

/** A pool of 4-core pilots, 1 h each (near its end in the last 6 min, margin 30 s), idle after 10 min. */
export function pool(over: Partial<PoolConfig> = {}): PoolConfig {
  return {
    name: 'p',
    kind: 'slurm',
    partition: 'batch',
    maxNodes: 3,
    cores: 4,
    memGB: 8,
    timeLimitS: 3600,
    idleMin: 10,
    account: null,
    qos: null,
    reach: 'ssh',
    back: null,
    line: 1,
    ...over,
  };
}

export function poolRun(over: Partial<PoolConfig> = {}, pilots: Pilot[] = []): PoolRun {
  const run = newPoolRun(pool(over));
  for (const p of pilots) run.pilots.set(p.jobId, p);
  return run;
}

/** A pilot Slurm lists as pending. */
export function pending(jobId: string, since = 0, reason: string | null = 'Resources'): Pilot {
  return { ...newPilot(jobId, since), slurmState: 'PENDING', reason };
}

/** A pilot Slurm runs on `host`, not joined yet. */
export function running(jobId: string, host = `h${jobId}`, endsAt: number | null = null, since = 0): Pilot {
  return { ...newPilot(jobId, since), slurmState: 'RUNNING', host, endsAt };
}

/** A pilot joined as node p-JOBID, idle since `idleSince`, ending at `endsAt`. */
export function joined(jobId: string, endsAt: number, idleSince: number | null = 0, pool = 'p'): Pilot {
  return { ...running(jobId, `h${jobId}`, endsAt), node: pilotNode(pool, jobId), idleSince };
}

export function row(jobId: string, state: string, over: Partial<PilotRow> = {}): PilotRow {
  return { jobId, state, reason: null, node: null, timeLeftS: null, ...over };
}

/** What the allocator says of each node (absent: nothing on it). */
export function uses(map: Record<string, NodeUse> = {}): (node: string) => NodeUse | null {
  return (node) => map[node] ?? { slots: 0, freeCores: 4 };
}
