/**
 * The allocator's in-memory state (§3.3, §3.5): nodes with their usage and
 * probe metrics, registered users with their shares and slots, and the global
 * counters used by step A of granting. Plain mutable data; every change goes
 * through the functions here or in accounting.ts so the counters stay equal
 * to the sums they summarise (see `auditCounters`).
 */
import type { NodeConfig } from './nodes-file.js';
import { distribute, type Rules } from './rules.js';
import { DEFAULT_LIMITS, type ClusterLimits } from './limits-file.js';
import type { GpuDevice } from '../protocol/gpu.js';
import type { PoolView } from '../protocol/cluster.js';
import { noGpus, recountGpus, redistributeGpus, type ClusterGpus, type UserGpus } from './gpu-share.js';

/** Memory every node keeps back for its system: req_mem starts here (§3.3). */
export const MEM_RESERVE_GB = 2.0;

/** A node whose capacity is known: the caller resolves detected cores/memory first. */
export type NodeSpec = NodeConfig & { cores: number; memGB: number };

/** What a node probe (§3.2) reports; the daemon sets it, the core only reads it. */
export interface NodeMetrics {
  up: boolean;
  /** 5-minute load average. */
  load: number;
  /** Real memory in use on the node (free_mem = total − this). */
  usedMemGB: number;
  /** Busy processes not started by qpy. */
  outsiders: number;
  disk: { usedGB: number; totalGB: number } | null;
  /** The GPUs the probe found (`nvidia-smi`); null until probed or where it could not tell. */
  gpuDevices: GpuDevice[] | null;
  /** Indices of GPUs in use by processes that are not qpy's jobs (outsiders): not given out meanwhile. */
  gpuOutsiders: number[];
  /** Why the probe could not tell the GPUs (gpuDevices null: nvidia-smi failed or printed something unexpected), or null. */
  gpuProblem: string | null;
}

export interface NodeState extends NodeMetrics {
  spec: NodeSpec;
  /** The admin drained it: no new jobs; its running jobs go on. */
  drained: boolean;
  /** No longer in the nodes file: kept, taking no jobs, until its last slot is released. */
  removed: boolean;
  /** Cores held by qpy slots. */
  usedCores: number;
  /** MEM_RESERVE_GB plus the memory of every slot on the node. */
  reqMemGB: number;
  /** Number of slots on the node (at 0, reqMemGB is reset exactly to the reserve). */
  slotCount: number;
  /** Jobs holding each GPU of the node, by device index (devices no job holds are absent): see gpus.ts. */
  gpuUse: Map<number, number>;
  /** A Slurm pilot's node (issue 18): its pool and Slurm job; null for a node of the nodes file. */
  pilot: { pool: string; jobId: string } | null;
  /** The longest job (its `--time`, seconds) the node still takes, and whether one without `--time` may
   * start there; null: no bound (a pilot's runner sets it as the pilot nears its time limit). */
  jobTime: { maxS: number; untimed: boolean } | null;
}

/** One granted slot. `minCores` is the part of it inside its owner's guarantee. */
export interface SlotRecord {
  jobId: number;
  node: string;
  cores: number;
  memGB: number;
  minCores: number;
  /** The GPU device indices of the node that the job holds (empty: none). */
  gpus: number[];
  /** How many of them fall inside its owner's GPU guarantee (gpu-share.ts). */
  minGpus: number;
}

export interface UserState {
  name: string;
  min: number;
  extra: number;
  usedCores: number;
  /** Last queue size reported by the user's master (0 = idle, lends its share). */
  queueSize: number;
  /** Slots by job id, in the order they were charged. */
  slots: Map<number, SlotRecord>;
  /** Nodes this user's master reports it cannot reach: no grants there for this user. */
  unreachable: Set<string>;
  /** Removed by the admin: its running jobs finish, new requests are refused; forgotten once it holds nothing. */
  removed: boolean;
  /** Why its master cannot reach each node of `unreachable`, as it reported (for status and why). */
  unreachableReasons?: Map<string, string>;
  /** Its GPU share and use (gpu-share.ts). */
  gpu: UserGpus;
}

export interface AllocatorState {
  /** In file order: placement scans them in this order. */
  nodes: NodeState[];
  nodeByName: Map<string, NodeState>;
  /** In registration order (the order that gets an even split's remainder). */
  users: UserState[];
  userByName: Map<string, UserState>;
  rules: Rules;
  /** Σ cores of the nodes that take jobs (neither drained nor removed): n_cores, what shares divide. */
  totalCores: number;
  /** Σ slot cores (n_used_cores), including slots on nodes no longer configured. */
  usedCores: number;
  /** Σ user.min (n_min_cores). */
  minCores: number;
  /** Σ slot.minCores = Σ min(user.min, user.used) (n_used_min_cores). */
  usedMinCores: number;
  /** Why the last redistribution failed (shown by status), or null. */
  distributionError: string | null;
  /** The administrator's limits (limits-file.ts); the embedded allocator keeps the defaults. */
  limits: ClusterLimits;
  /** The GPU counters, as the four core counters above (gpu-share.ts). */
  gpu: ClusterGpus;
  /** The Slurm pools and their pilots, as their runner last set them (issue 18); empty without pools. */
  pools: PoolView[];
}

/** A fresh allocator over resolved nodes, with no users yet (the master of the embedded default registers
 * its single user). Nodes start up and idle; the daemon corrects that with `setNodeMetrics` after probing. */
export function createAllocator(nodes: NodeSpec[], rules: Rules): AllocatorState {
  const state: AllocatorState = {
    nodes: [],
    nodeByName: new Map(),
    users: [],
    userByName: new Map(),
    rules,
    totalCores: 0,
    usedCores: 0,
    minCores: 0,
    usedMinCores: 0,
    distributionError: null,
    limits: DEFAULT_LIMITS,
    gpu: { total: 0, used: 0, min: 0, usedMin: 0, error: null },
    pools: [],
  };
  for (const spec of nodes) {
    if (state.nodeByName.has(spec.name)) throw new Error(`duplicate node ${spec.name}`);
    const node = newNode(spec);
    state.nodes.push(node);
    state.nodeByName.set(spec.name, node);
  }
  recountCores(state);
  return state;
}

/** A node as configured, idle, up until a probe says otherwise. */
export function newNode(spec: NodeSpec): NodeState {
  return {
    spec: { ...spec, attributes: [...spec.attributes] },
    drained: false,
    removed: false,
    usedCores: 0,
    reqMemGB: MEM_RESERVE_GB,
    slotCount: 0,
    gpuUse: new Map(),
    up: true,
    load: 0,
    usedMemGB: 0,
    outsiders: 0,
    disk: null,
    gpuDevices: null,
    gpuOutsiders: [],
    gpuProblem: null,
    pilot: null,
    jobTime: null,
  };
}

/** Does the node take new jobs? Up, not drained, still configured. */
export function takesJobs(node: NodeState): boolean {
  return node.up && !node.drained && !node.removed;
}

/** Σ cores of the nodes whose cores are shared out: configured and not drained (down nodes count: they come back). */
export function recountCores(state: AllocatorState): void {
  state.totalCores = state.nodes.reduce((sum, n) => sum + (n.drained || n.removed ? 0 : n.spec.cores), 0);
  recountGpus(state);
}

/** n_free_cores: cores neither held by qpy nor busy with outsiders (may be negative). */
export function nodeFreeCores(node: NodeState): number {
  return node.spec.cores - node.usedCores - node.outsiders;
}

/** avail_mem: memory not yet promised to slots or the reserve. */
export function nodeAvailMem(node: NodeState): number {
  return node.spec.memGB - node.reqMemGB;
}

/** free_mem: memory really free on the node according to the last probe. */
export function nodeFreeMem(node: NodeState): number {
  return node.spec.memGB - node.usedMemGB;
}

/** Record a probe's results for a node. Returns false if no such node. */
export function setNodeMetrics(state: AllocatorState, name: string, metrics: Partial<NodeMetrics>): boolean {
  const node = state.nodeByName.get(name);
  if (node === undefined) return false;
  if (metrics.up !== undefined) node.up = metrics.up;
  if (metrics.load !== undefined) node.load = metrics.load;
  if (metrics.usedMemGB !== undefined) node.usedMemGB = metrics.usedMemGB;
  if (metrics.outsiders !== undefined) node.outsiders = Math.max(0, Math.floor(metrics.outsiders));
  if (metrics.disk !== undefined) node.disk = metrics.disk;
  if (metrics.gpuDevices !== undefined) {
    node.gpuDevices = metrics.gpuDevices;
    if (recountGpus(state)) redistributeGpus(state); // a probe found GPUs (or lost them): the GPU shares change
  }
  if (metrics.gpuOutsiders !== undefined) node.gpuOutsiders = [...metrics.gpuOutsiders];
  if (metrics.gpuProblem !== undefined) node.gpuProblem = metrics.gpuProblem;
  return true;
}

/**
 * Outsiders from a probe's count of busy processes (§3.2): the busy
 * processes beyond the cores qpy itself holds on the node.
 */
export function outsidersFromBusy(state: AllocatorState, name: string, busyProcesses: number): number {
  const node = state.nodeByName.get(name);
  return Math.max(0, busyProcesses - (node?.usedCores ?? 0));
}

/**
 * Recompute every user's min/extra from the rules (on each new user, and on
 * the admin's `distribute`). On failure (say, minimums exceeding the cores)
 * known users keep their previous shares, new users get 0/0, and the error is
 * kept for `status`. Then the min-core counters are rebuilt from the slots.
 */
export function redistribute(state: AllocatorState): void {
  const result = distribute(
    state.rules,
    state.totalCores,
    state.users.map((u) => u.name),
  );
  if (result.ok) {
    for (const u of state.users) {
      const share = result.shares.get(u.name) ?? { min: 0, extra: 0 };
      u.min = share.min;
      u.extra = share.extra;
    }
    state.distributionError = null;
  } else {
    state.distributionError = result.message;
  }
  state.minCores = state.users.reduce((s, u) => s + u.min, 0);
  for (const u of state.users) reassignMinCores(state, u);
  redistributeGpus(state);
}

/** Replace the rules (admin `distribute` after editing the file) and redistribute. */
export function setRules(state: AllocatorState, rules: Rules): void {
  state.rules = rules;
  redistribute(state);
}

/**
 * Register a user (idempotent: a known user is returned unchanged) and
 * redistribute, since every share depends on the number of users.
 */
export function addUser(state: AllocatorState, name: string, queueSize = 0): UserState {
  const known = state.userByName.get(name);
  if (known !== undefined) return known;
  const user: UserState = {
    name,
    min: 0,
    extra: 0,
    usedCores: 0,
    queueSize,
    slots: new Map(),
    unreachable: new Set(),
    removed: false,
    gpu: noGpus(),
  };
  state.users.push(user);
  state.userByName.set(name, user);
  redistribute(state);
  return user;
}

/**
 * Re-derive which cores of a user's slots fall inside its guarantee, filling
 * the minimum in charge order, and move the global counter by the change.
 * Keeps Σ slot.minCores = min(user.min, user.used) after a release or a
 * change of shares, so releasing a slot frees exactly what it holds and the
 * counter can never go negative.
 */
export function reassignMinCores(state: AllocatorState, user: UserState): void {
  let remaining = user.min;
  let delta = 0;
  for (const slot of user.slots.values()) {
    const inside = Math.max(0, Math.min(slot.cores, remaining));
    remaining -= inside;
    delta += inside - slot.minCores;
    slot.minCores = inside;
  }
  state.usedMinCores += delta;
}
