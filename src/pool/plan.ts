/**
 * A Slurm pool's decisions at each tick (issue 18), pure: given the pool, its
 * pilots, what its nodes hold and how much work waits, which pilots to
 * submit, which join qpy's node list, which take only jobs that fit their
 * time left, and which end (idle, near their limit, or no longer wanted).
 * The records are changed in place; the daemon's pool runner
 * (daemons/shared/pool-runner.ts) carries out the effects returned.
 */
import { endMarginMs, nearEndMs, type PoolConfig } from '../allocator/pool-line.js';
import { started, type Pilot } from './pilots.js';

/** What the allocator says of one joined pilot's node. */
export interface NodeUse {
  /** Jobs (slots) on it. */
  slots: number;
  /** Cores no job holds. */
  freeCores: number;
}

/** One pool as its runner keeps it. */
export interface PoolRun {
  config: PoolConfig;
  /** By Slurm job ID; gone pilots are dropped. */
  pilots: Map<string, Pilot>;
  /** `sbatch` calls under way. */
  submitting: number;
  /** No `sbatch` before this (ms): set after a failed one. */
  retryAt: number;
  /** The last failure of `sbatch`, `squeue` or `scancel`, for status and why; null once one succeeds. */
  problem: string | null;
  /**
   * How many jobs waited when a pilot ended idle under them (they fit
   * elsewhere, or nowhere in the pool): no pilot is submitted again until
   * that number changes; null when no pilot idled away under waiting jobs.
   */
  idledAt: number | null;
}

export type PoolEffect =
  /** Submit this many pilots (`sbatch`). */
  | { type: 'submit'; count: number }
  /** End these pilots (`scancel`). */
  | { type: 'cancel'; jobIds: string[] }
  /** Add the pilot's node to the node list: `address` is its host (reach=ssh) or where its agent is reached (reach=agent). */
  | { type: 'join'; node: string; jobId: string; host: string; cores: number; memGB: number }
  /** Take the node out of the node list; `failed`: the pilot died under its jobs, which are node_failed. */
  | { type: 'leave'; node: string; jobId: string; failed: boolean; why: string }
  /** The longest job (seconds of `--time`) the node may still take, and whether a job without `--time` may start there. */
  | { type: 'jobTime'; node: string; maxS: number; untimed: boolean };

/** A new pool, with no pilot yet. */
export function newPoolRun(config: PoolConfig): PoolRun {
  return { config, pilots: new Map(), submitting: 0, retryAt: 0, problem: null, idledAt: null };
}

/** The node name of a pilot: the pool's name and the Slurm job ID. */
export const pilotNode = (pool: string, jobId: string): string => `${pool}-${jobId}`;

/** Whether the pilot takes part in the pool's capacity (not being ended). */
const live = (p: Pilot): boolean => p.ending === null;

function mayJoin(config: PoolConfig, p: Pilot): boolean {
  if (p.node !== null || !live(p) || p.host === null) return false;
  return config.reach === 'ssh' ? started(p) : p.connected;
}

/**
 * One tick of the pool at `now`. `use` tells what a joined node holds (null
 * if the allocator no longer has it); `queued` is how many jobs wait, over
 * every user the pool serves. Returns the effects in the order to carry out.
 */
export function planTick(run: PoolRun, use: (node: string) => NodeUse | null, queued: number, now: number): PoolEffect[] {
  const { config } = run;
  const effects: PoolEffect[] = [];
  const cancel: string[] = [];
  const end = (p: Pilot, why: NonNullable<Pilot['ending']>, text: string) => {
    p.ending = why;
    cancel.push(p.jobId);
    if (p.node !== null) effects.push({ type: 'leave', node: p.node, jobId: p.jobId, failed: false, why: text });
  };
  let freeCores = 0;
  // Pilots being submitted are coming like pending ones: without them each tick while an sbatch runs would submit another.
  let pendingCores = run.submitting * config.cores;
  for (const p of run.pilots.values()) {
    const joining = mayJoin(config, p);
    if (joining) {
      p.node = pilotNode(config.name, p.jobId);
      p.idleSince = now;
      p.endsAt ??= now + config.timeLimitS * 1000;
      effects.push({ type: 'join', node: p.node, jobId: p.jobId, host: p.host!, cores: config.cores, memGB: config.memGB });
    }
    if (!live(p)) continue;
    if (p.node === null) {
      pendingCores += config.cores;
      continue;
    }
    // A node joining in this tick is not in the allocator yet: all its cores are free.
    const u = use(p.node) ?? { slots: 0, freeCores: joining ? config.cores : 0 };
    p.idleSince = u.slots > 0 ? null : (p.idleSince ?? now);
    const left = p.endsAt === null ? config.timeLimitS * 1000 : p.endsAt - now;
    const near = left < nearEndMs(config.timeLimitS);
    // Idle means seen idle at an earlier tick too: with idle=0, a node that just joined gets its chance to take a job.
    if (u.slots === 0 && p.idleSince !== null && now > p.idleSince && now - p.idleSince >= config.idleMin * 60_000) {
      end(p, 'idle', `idle for ${config.idleMin} min`);
      if (queued > 0) run.idledAt = queued;
      continue;
    }
    if (u.slots === 0 && near) {
      end(p, 'time', 'near its time limit');
      continue;
    }
    const maxS = Math.max(0, Math.floor((left - endMarginMs(config.timeLimitS)) / 1000));
    effects.push({ type: 'jobTime', node: p.node, maxS, untimed: !near });
    if (!near) freeCores += u.freeCores;
  }
  if (run.idledAt !== null && queued !== run.idledAt) run.idledAt = null;
  if (queued === 0) {
    // No work waits: pilots still queued in Slurm are not wanted (the newest first, all of them).
    for (const p of [...run.pilots.values()].reverse()) if (live(p) && p.node === null) end(p, 'surplus', 'no work waits');
  } else if (now >= run.retryAt && run.idledAt === null) {
    const shortfall = queued - pendingCores - freeCores;
    const livePilots = [...run.pilots.values()].filter(live).length;
    const room = config.maxNodes - livePilots - run.submitting;
    const count = Math.min(room, Math.ceil(shortfall / config.cores));
    if (count > 0) effects.push({ type: 'submit', count });
  }
  if (cancel.length > 0) effects.push({ type: 'cancel', jobIds: cancel });
  return effects;
}

/**
 * Pilots found gone (a listing no longer shows them): each joined one leaves
 * the node list; `failed` unless qpy itself ended it, since then it held no
 * job. One that ended on its own (its limit, a `scancel` by a person, a node
 * failure) takes its node's jobs with it.
 */
export function goneEffects(gone: readonly Pilot[]): PoolEffect[] {
  return gone
    .filter((p) => p.node !== null && p.ending === null)
    .map((p) => ({ type: 'leave', node: p.node!, jobId: p.jobId, failed: true, why: `its Slurm job ${p.jobId} ended` }));
}
