/**
 * Fair share of the GPUs (issue 16), as §3.4/§3.6 share the cores, with
 * counters of their own: the rules give each user a GPU minimum and extra
 * (rules.ts gpuRules: `gpus=` parts, or an even split); step A lets a user
 * take N more GPUs within its minimum, within its share while GPUs are
 * free, or beyond it by borrowing the unused extra of users that have no
 * GPU job waiting, split between the users that wait at their share.
 *
 * The unit is one job on one GPU: a node of G GPUs with gpu_share=K counts
 * G×K, and a job of `-g N` counts N. Structural types, so that state.ts
 * (which holds these counters) can call in without an import cycle.
 */
import { nodeGpuCount, nodeGpuShare, type GpuNode } from './gpus.js';
import { distribute, gpuRules, type Rules } from './rules.js';
import { borrowable } from './lending.js';

/** A user's GPU share and use. */
export interface UserGpus {
  min: number;
  extra: number;
  /** Σ GPUs of its slots. */
  used: number;
  /** Queued jobs that ask for GPUs, as its master last said (0: it lends its extra). */
  queue: number;
}

/** The cluster's GPU counters: as state.ts keeps totalCores, usedCores, minCores, usedMinCores. */
export interface ClusterGpus {
  total: number;
  used: number;
  min: number;
  usedMin: number;
  /** Why the last GPU distribution failed (shown by status), or null. */
  error: string | null;
}

interface ShareSlot {
  gpus: number[];
  minGpus: number;
}
interface ShareUser {
  name: string;
  gpu: UserGpus;
  slots: Map<number, ShareSlot>;
}
interface ShareNode extends GpuNode {
  drained: boolean;
  removed: boolean;
}
interface ShareState {
  rules: Rules;
  users: ShareUser[];
  nodes: ShareNode[];
  gpu: ClusterGpus;
}

export const noGpus = (): UserGpus => ({ min: 0, extra: 0, used: 0, queue: 0 });

/** Σ GPU places of the nodes that take jobs (configured, not drained): what GPU shares divide. True when it changed. */
export function recountGpus(state: ShareState): boolean {
  const total = state.nodes.reduce((sum, n) => sum + (n.drained || n.removed ? 0 : nodeGpuCount(n) * nodeGpuShare(n)), 0);
  const changed = total !== state.gpu.total;
  state.gpu.total = total;
  return changed;
}

/** Recompute every user's GPU min/extra (on failure they keep theirs, and the error is kept), then the min counters. */
export function redistributeGpus(state: ShareState): void {
  const result = distribute(
    gpuRules(state.rules),
    state.gpu.total,
    state.users.map((u) => u.name),
    true,
  );
  if (result.ok) {
    for (const u of state.users) {
      const share = result.shares.get(u.name) ?? { min: 0, extra: 0 };
      u.gpu.min = share.min;
      u.gpu.extra = share.extra;
    }
    state.gpu.error = null;
  } else state.gpu.error = result.message;
  state.gpu.min = state.users.reduce((s, u) => s + u.gpu.min, 0);
  for (const u of state.users) reassignMinGpus(state, u);
}

/** As reassignMinCores: the GPUs of a user's slots inside its guarantee, in charge order; the counter moves by the change. */
export function reassignMinGpus(state: ShareState, user: ShareUser): void {
  let remaining = user.gpu.min;
  let delta = 0;
  for (const slot of user.slots.values()) {
    const inside = Math.max(0, Math.min(slot.gpus.length, remaining));
    remaining -= inside;
    delta += inside - slot.minGpus;
    slot.minGpus = inside;
  }
  state.gpu.usedMin += delta;
}

/** Charge (sign 1) or release (−1) a slot's GPUs to its user and the cluster; the caller reassigns the minimum after a release. */
export function countUserGpus(state: ShareState, user: ShareUser, slot: ShareSlot, sign: 1 | -1): void {
  const n = slot.gpus.length;
  if (sign === 1) {
    user.gpu.used += n;
    const used = user.gpu.used;
    slot.minGpus = used <= user.gpu.min ? n : Math.max(0, n + user.gpu.min - used);
    state.gpu.usedMin += slot.minGpus;
  } else {
    user.gpu.used -= n;
    state.gpu.usedMin -= slot.minGpus;
  }
  state.gpu.used += sign * n;
}

/** GPUs neither used nor kept for users' unused GPU minimums. */
export function globalFreeGpus(state: ShareState): number {
  return state.gpu.total - state.gpu.used - (state.gpu.min - state.gpu.usedMin);
}

/** As borrowableCores: the unused GPU extra of users with no GPU job waiting, split between `user` and the others waiting at their share. */
export function borrowableGpus(state: ShareState, user: ShareUser): number {
  return borrowable(
    state.users,
    user,
    (o) => o.gpu,
    (s) => Math.max(0, Math.min(s.extra + s.min - s.used, s.extra)),
  );
}

/** Step A for GPUs: may `user` take `gpus` more GPUs now? Always for none. */
export function hasGpuRoom(state: ShareState, user: ShareUser, gpus: number): boolean {
  if (gpus === 0) return true;
  const g = user.gpu;
  const wanted = g.used + gpus;
  if (wanted <= g.min) return true;
  const free = globalFreeGpus(state) >= gpus;
  if (wanted <= g.min + g.extra) return free;
  return free && wanted <= g.min + g.extra + borrowableGpus(state, user);
}
