/**
 * Granting a slot (§3.6): step A decides whether the user may take `c` more
 * cores now (its guarantee, its share, or cores borrowed from idle users);
 * step B picks the node (best fit for 1-core jobs away from multicore-
 * preferred nodes, else first fit). Fixed from the original: the best-fit
 * pass also requires the node to be up.
 */
import type { ErrorCode } from '../protocol/error-codes.js';
import { MAX_SLOT_CORES, MAX_SLOT_GPUS, MAX_SLOT_MEM_GB } from '../protocol/master-allocator.js';
import { pickGpus } from './gpus.js';
import { hasGpuRoom } from './gpu-share.js';
import { borrowable } from './lending.js';
import { matchesNode, parseAttrExpr, type AttrExpr } from './attributes.js';
import { chargeSlot, releaseSlot } from './accounting.js';
import {
  nodeAvailMem,
  nodeFreeCores,
  nodeFreeMem,
  takesJobs,
  type AllocatorState,
  type NodeState,
  type SlotRecord,
  type UserState,
} from './state.js';

/** Cores neither used nor reserved for users' unused guarantees (outsiders not subtracted, as at HEAD). */
export function globalFreeCores(state: AllocatorState): number {
  return state.totalCores - state.usedCores - (state.minCores - state.usedMinCores);
}

/**
 * How many cores beyond its share `user` may borrow: the unused extra of
 * idle users (queue 0), split evenly between `user` and every other user
 * that has a queue and has already reached its share. Users with a queue
 * but still under their share neither compete nor lend.
 *
 * Fixed from the original, which floored the split and so left up to
 * (competitors − 1) lendable cores idle while users waited: the remainder
 * goes one core each to the earliest-registered competitors.
 */
export function borrowableCores(state: AllocatorState, user: UserState): number {
  // An idle user above its share (it borrowed) lends less than nothing: what it holds beyond is no one's to lend.
  return borrowable(
    state.users,
    user,
    (o) => ({ queue: o.queueSize, used: o.usedCores, min: o.min, extra: o.extra }),
    (s) => Math.min(s.extra + s.min - s.used, s.extra),
  );
}

/** Step A: is there room for `user` to take `cores` more cores now? */
export function hasRoom(state: AllocatorState, user: UserState, cores: number): boolean {
  const wanted = user.usedCores + cores;
  if (wanted <= user.min) return true;
  const freeCores = globalFreeCores(state) >= cores;
  if (wanted <= user.min + user.extra) return freeCores;
  return freeCores && wanted <= user.min + user.extra + borrowableCores(state, user);
}

/**
 * Step B: the node for a job of `cores` cores and `memGB` GB matching `expr`,
 * or null. A 1-core job first goes to the up, non-multicore-preferred node
 * with the most free cores (ties to the earliest) whose promised and real
 * memory both exceed the job's; otherwise (and for bigger jobs) the first up
 * node (not drained, still configured: see takesJobs) in file order with enough free cores and promised memory. Nodes in
 * `avoid` (those the user's master cannot reach) are skipped, and so are nodes without `gpus` free GPUs (gpus.ts).
 */
export function chooseNode(
  state: AllocatorState,
  cores: number,
  memGB: number,
  expr: AttrExpr | null,
  avoid: ReadonlySet<string> = new Set(),
  gpus = 0,
  time?: number,
): NodeState | null {
  const matches = (n: NodeState): boolean =>
    !avoid.has(n.spec.name) &&
    matchesNode(expr, n.spec.name, n.spec.attributes) &&
    (gpus === 0 || pickGpus(n, gpus) !== null) &&
    fitsTime(n, time);
  if (cores === 1) {
    let best: NodeState | null = null;
    let bestFree = 0;
    for (const n of state.nodes) {
      const free = nodeFreeCores(n);
      if (free <= bestFree) continue;
      if (!takesJobs(n) || n.spec.prefMulticore || !matches(n)) continue;
      if (!(nodeAvailMem(n) > memGB && nodeFreeMem(n) > memGB)) continue;
      best = n;
      bestFree = free;
    }
    if (best !== null) return best;
  }
  for (const n of state.nodes) {
    if (takesJobs(n) && matches(n) && nodeFreeCores(n) >= cores && nodeAvailMem(n) > memGB) return n;
  }
  return null;
}

/** Whether a job of `time` seconds (undefined: no `--time`) may start on the node before its end (a pilot's: issue 18). */
export function fitsTime(n: NodeState, time: number | undefined): boolean {
  if (n.jobTime === null) return true;
  return time === undefined ? n.jobTime.untimed : time <= n.jobTime.maxS;
}

export interface GrantDemand {
  cores: number;
  memGB: number;
  attrs: string | null;
  /** Its time limit in seconds (absent: none): a pilot near its end takes only jobs that fit. */
  time?: number;
  /** GPUs (distinct devices of the node); absent: none. */
  gpus?: number;
}

export type GrantResult =
  | { ok: true; slot: SlotRecord; node: NodeState }
  | { ok: false; reason: 'no_room' | 'no_gpu_room' | 'no_node' }
  | { ok: false; reason: 'invalid'; code: ErrorCode; message: string };

/**
 * Try to grant one job's slot: validate the demand, step A, step B, then
 * charge. A job that already holds a slot gets the same slot back, so a
 * master that retries after a lost reply cannot be charged twice. An invalid
 * demand (bad cores, memory or expression) is reported, never placed.
 */
export function tryGrant(state: AllocatorState, user: UserState, jobId: number, demand: GrantDemand): GrantResult {
  const held = user.slots.get(jobId);
  if (held !== undefined) {
    const node = state.nodeByName.get(held.node);
    if (node !== undefined) return { ok: true, slot: held, node };
    releaseSlot(state, user, jobId); // held on a node that is gone: place it afresh
  }
  if (!Number.isSafeInteger(demand.cores) || demand.cores < 1) {
    return { ok: false, reason: 'invalid', code: 'BAD_REQUEST', message: `a job needs at least 1 core, not ${demand.cores}` };
  }
  if (demand.cores > MAX_SLOT_CORES)
    return {
      ok: false,
      reason: 'invalid',
      code: 'BAD_REQUEST',
      message: `a job may ask for at most ${MAX_SLOT_CORES} cores, not ${demand.cores}`,
    };
  if (!Number.isFinite(demand.memGB) || demand.memGB < 0) {
    return { ok: false, reason: 'invalid', code: 'BAD_REQUEST', message: `memory must be 0 GB or more, not ${demand.memGB}` };
  }
  if (demand.memGB > MAX_SLOT_MEM_GB)
    return {
      ok: false,
      reason: 'invalid',
      code: 'BAD_REQUEST',
      message: `a job may ask for at most ${MAX_SLOT_MEM_GB} GB, not ${demand.memGB}`,
    };
  const gpus = demand.gpus ?? 0;
  if (!Number.isSafeInteger(gpus) || gpus < 0 || gpus > MAX_SLOT_GPUS)
    return {
      ok: false,
      reason: 'invalid',
      code: 'BAD_REQUEST',
      message: `GPUs must be a whole number from 0 to ${MAX_SLOT_GPUS}, not ${gpus}`,
    };
  const parsed = parseAttrExpr(demand.attrs);
  if (!parsed.ok) return { ok: false, reason: 'invalid', code: parsed.code, message: parsed.message };
  if (!hasRoom(state, user, demand.cores)) return { ok: false, reason: 'no_room' };
  if (!hasGpuRoom(state, user, gpus)) return { ok: false, reason: 'no_gpu_room' };
  const node = chooseNode(state, demand.cores, demand.memGB, parsed.expr, user.unreachable, gpus, demand.time);
  if (node === null) return { ok: false, reason: 'no_node' };
  const devices = pickGpus(node, gpus) ?? [];
  const slot = chargeSlot(state, user, { jobId, node: node.spec.name, cores: demand.cores, memGB: demand.memGB, gpus: devices });
  return { ok: true, slot, node };
}
