/**
 * Slot accounting (§3.3, §3.8, §3.9): charging a granted or re-registered
 * slot to its user, its node and the global counters, releasing it, and two
 * audits that recompute what the counters must be (used by tests and by
 * bench/allocator, cheap enough for a daemon's debug check).
 *
 * The capacity invariant (as qpy-multiuser keeps it, trusting no master's
 * report: see HandleOptions in handle.ts). A node's load is its usedCores
 * (qpy slots; outsiders do not count) and its reqMemGB (the slots' memory
 * plus the 2 GB reserve, counted only while it holds a slot, so a node
 * smaller than the reserve is not over when idle). Its capacity is
 * spec.cores and spec.memGB. Then:
 * - no change ever adds load to a node beyond its capacity: a grant lands
 *   only where it fits (chooseNode), a strict registration adds no load at
 *   all (it only keeps or releases slots the allocator granted), and
 *   releases and reaping only take load away (admin changes move none);
 * - capacity may shrink under running slots (a nodes reload, or a probe
 *   that finds fewer cores or less memory): the node is then over capacity,
 *   legitimately, and from then on its load only goes down (it takes no new
 *   slot, since its free cores or promised memory are negative) until it is
 *   within its capacity again.
 * `auditCapacity(state, before)` checks exactly that against the loads
 * taken by `nodeLoads` before the change; without `before`, every node must
 * be within its capacity (true whenever no capacity shrank under slots).
 * The embedded allocator's trusted registrations (§3.9) may break it: its
 * master's report is the truth there, capacity or not.
 */
import { MEM_RESERVE_GB, reassignMinCores, type AllocatorState, type NodeState, type SlotRecord, type UserState } from './state.js';
import { countGpus, gpuJobs, nodeGpuIndices, nodeGpuShare } from './gpus.js';
import { countUserGpus, reassignMinGpus } from './gpu-share.js';

/** What a slot occupies; the allocator adds which part is inside the guarantee. */
export interface SlotRequest {
  jobId: number;
  node: string;
  cores: number;
  memGB: number;
  /** GPU device indices on the node (absent: none). */
  gpus?: readonly number[];
}

/**
 * Charge a slot without any capacity check (grants check first; the
 * embedded allocator's trusted registration deliberately does not, §3.9;
 * qpy-multiuser's strict registration never charges, and the daemon's
 * restart charges back only the slots its store says it granted). A slot on a node that is not configured is
 * still charged to its user and the global total, so shares stay honest
 * until it is released. The caller ensures the job id is not held already.
 */
export function chargeSlot(state: AllocatorState, user: UserState, req: SlotRequest): SlotRecord {
  const c = req.cores;
  user.usedCores += c;
  const used = user.usedCores;
  // §3.3: the part of this slot that falls inside the user's minimum.
  const minCores = used < user.min ? c : used < user.min + c ? c + user.min - used : 0;
  const slot: SlotRecord = {
    jobId: req.jobId,
    node: req.node,
    cores: c,
    memGB: req.memGB,
    minCores,
    gpus: [...(req.gpus ?? [])],
    minGpus: 0,
  };
  countUserGpus(state, user, slot, 1);
  user.slots.set(req.jobId, slot);
  state.usedCores += c;
  state.usedMinCores += minCores;
  const node = state.nodeByName.get(req.node);
  if (node !== undefined) {
    node.usedCores += c;
    node.reqMemGB += req.memGB;
    node.slotCount++;
    countGpus(node, slot.gpus, 1);
  }
  return slot;
}

/**
 * Release the slot of `jobId`, freeing exactly what it was charged, then let
 * the user's remaining slots take over the guarantee it held. Returns the
 * slot, or null when the user holds no such job (a repeated release).
 */
export function releaseSlot(state: AllocatorState, user: UserState, jobId: number): SlotRecord | null {
  const slot = user.slots.get(jobId);
  if (slot === undefined) return null;
  user.slots.delete(jobId);
  user.usedCores -= slot.cores;
  state.usedCores -= slot.cores;
  state.usedMinCores -= slot.minCores;
  const node = state.nodeByName.get(slot.node);
  if (node !== undefined) {
    node.usedCores -= slot.cores;
    node.slotCount--;
    countGpus(node, slot.gpus, -1);
    // Reset exactly when empty so floating-point sums cannot drift.
    node.reqMemGB = node.slotCount === 0 ? MEM_RESERVE_GB : node.reqMemGB - slot.memGB;
  }
  countUserGpus(state, user, slot, -1);
  reassignMinCores(state, user);
  reassignMinGpus(state, user);
  return slot;
}

/** A node's load at one moment: what `auditCapacity` compares with. */
export interface NodeLoad {
  usedCores: number;
  reqMemGB: number;
  /** Jobs on each GPU, by device index. */
  gpuUse: ReadonlyMap<number, number>;
}

/** Every node's load now, by name (one small entry per node). */
export function nodeLoads(state: AllocatorState): Map<string, NodeLoad> {
  return new Map(state.nodes.map((n) => [n.spec.name, { usedCores: n.usedCores, reqMemGB: n.reqMemGB, gpuUse: new Map(n.gpuUse) }]));
}

/** Slack for sums of fractional GB (reqMemGB is a running float sum). */
const memSlack = (gb: number): number => 1e-9 * Math.max(1, Math.abs(gb));

/**
 * The capacity invariant (see the header), one sentence per node that
 * breaks it: a node over its cores or memory, unless `before` (the loads
 * before the change) shows it was already that loaded, so its capacity
 * shrank under its slots and its load did not grow. O(nodes), no slot walk.
 */
export function auditCapacity(state: AllocatorState, before?: ReadonlyMap<string, NodeLoad>): string[] {
  const problems: string[] = [];
  for (const n of state.nodes) {
    problems.push(...gpuCapacityProblems(n, before?.get(n.spec.name)));
    const overCores = n.usedCores > n.spec.cores;
    const overMem = n.slotCount > 0 && n.reqMemGB > n.spec.memGB + memSlack(n.spec.memGB);
    if (!overCores && !overMem) continue;
    const was = before?.get(n.spec.name);
    if (was !== undefined && n.usedCores <= was.usedCores && n.reqMemGB <= was.reqMemGB + memSlack(was.reqMemGB)) continue;
    const why = was === undefined ? '' : ` (it held ${was.usedCores} cores and ${was.reqMemGB} GB before)`;
    if (overCores) problems.push(`node ${n.spec.name} holds ${n.usedCores} cores, more than its ${n.spec.cores}${why}`);
    if (overMem)
      problems.push(
        `node ${n.spec.name} has ${n.reqMemGB} GB requested (the ${MEM_RESERVE_GB} GB reserve included), more than its ${n.spec.memGB} GB${why}`,
      );
  }
  return problems;
}

/**
 * The GPU side of the capacity invariant: no device holds more jobs than
 * the node's share, and none outside the node's devices holds a job, unless
 * it held at least as many before the change (the nodes file shrank under
 * running jobs).
 */
function gpuCapacityProblems(n: NodeState, was: NodeLoad | undefined): string[] {
  const share = nodeGpuShare(n);
  const devices = new Set(nodeGpuIndices(n));
  const problems: string[] = [];
  for (const [index, jobs] of n.gpuUse) {
    const limit = devices.has(index) ? share : 0;
    if (jobs <= limit || (was !== undefined && jobs <= (was.gpuUse.get(index) ?? 0))) continue;
    problems.push(
      devices.has(index)
        ? `node ${n.spec.name}: GPU ${index} holds ${jobs} jobs, more than its share of ${share}`
        : `node ${n.spec.name}: GPU ${index}, which the node does not have, holds ${jobs} job(s)`,
    );
  }
  return problems;
}

/**
 * Recompute every counter from the slots and list each mismatch or negative
 * value, one sentence each. An empty list means the books balance.
 */
export function auditCounters(state: AllocatorState): string[] {
  const problems: string[] = [];
  const perNode = new Map<string, { cores: number; mem: number; count: number; gpus: Map<number, number> }>();
  let used = 0;
  let usedMin = 0;
  let slotMin = 0;
  for (const u of state.users) {
    let userUsed = 0;
    for (const s of u.slots.values()) {
      userUsed += s.cores;
      slotMin += s.minCores;
      if (s.minCores < 0 || s.minCores > s.cores) problems.push(`slot ${s.jobId} of ${u.name} has minCores ${s.minCores}`);
      const n = perNode.get(s.node) ?? { cores: 0, mem: 0, count: 0, gpus: new Map() };
      n.cores += s.cores;
      n.mem += s.memGB;
      n.count++;
      if (new Set(s.gpus).size !== s.gpus.length) problems.push(`slot ${s.jobId} of ${u.name} names a GPU twice: ${s.gpus.join(',')}`);
      for (const g of s.gpus) n.gpus.set(g, (n.gpus.get(g) ?? 0) + 1);
      perNode.set(s.node, n);
    }
    if (u.usedCores < 0 || u.queueSize < 0) problems.push(`user ${u.name}: a counter is negative`);
    if (userUsed !== u.usedCores) problems.push(`user ${u.name}: usedCores ${u.usedCores}, slots hold ${userUsed}`);
    used += userUsed;
    usedMin += Math.min(u.min, userUsed);
  }
  for (const node of state.nodes) {
    const n = perNode.get(node.spec.name) ?? { cores: 0, mem: 0, count: 0, gpus: new Map<number, number>() };
    const gpuKeys = new Set([...n.gpus.keys(), ...node.gpuUse.keys()]);
    for (const g of gpuKeys)
      if (gpuJobs(node, g) !== (n.gpus.get(g) ?? 0))
        problems.push(`node ${node.spec.name}: GPU ${g} counted with ${gpuJobs(node, g)} jobs, slots hold ${n.gpus.get(g) ?? 0}`);
    if (node.usedCores < 0 || node.slotCount < 0) problems.push(`node ${node.spec.name}: a counter is negative`);
    if (node.usedCores !== n.cores) problems.push(`node ${node.spec.name}: usedCores ${node.usedCores}, slots hold ${n.cores}`);
    if (node.slotCount !== n.count) problems.push(`node ${node.spec.name}: slotCount ${node.slotCount}, slots ${n.count}`);
    if (Math.abs(node.reqMemGB - (MEM_RESERVE_GB + n.mem)) > 1e-9) {
      problems.push(`node ${node.spec.name}: reqMemGB ${node.reqMemGB}, expected ${MEM_RESERVE_GB + n.mem}`);
    }
  }
  const expectTotal = state.nodes.reduce((s, n) => s + (n.drained || n.removed ? 0 : n.spec.cores), 0);
  const expectMin = state.users.reduce((s, u) => s + u.min, 0);
  if (state.totalCores !== expectTotal) problems.push(`totalCores ${state.totalCores}, nodes have ${expectTotal}`);
  if (state.usedCores !== used) problems.push(`usedCores ${state.usedCores}, slots hold ${used}`);
  if (state.minCores !== expectMin) problems.push(`minCores ${state.minCores}, users' minimums add up to ${expectMin}`);
  if (state.usedMinCores !== usedMin) problems.push(`usedMinCores ${state.usedMinCores}, expected ${usedMin}`);
  if (slotMin !== usedMin) problems.push(`slots' minCores add up to ${slotMin}, expected ${usedMin}`);
  if (state.usedCores < 0 || state.usedMinCores < 0) problems.push('a global counter is negative');
  return [...problems, ...auditGpuShares(state)];
}

/** The GPU counters of gpu-share.ts against the slots, as auditCounters checks the cores'. */
function auditGpuShares(state: AllocatorState): string[] {
  const problems: string[] = [];
  let used = 0;
  let usedMin = 0;
  let slotMin = 0;
  for (const u of state.users) {
    let held = 0;
    for (const s of u.slots.values()) {
      held += s.gpus.length;
      slotMin += s.minGpus;
      if (s.minGpus < 0 || s.minGpus > s.gpus.length) problems.push(`slot ${s.jobId} of ${u.name} has minGpus ${s.minGpus}`);
    }
    if (held !== u.gpu.used) problems.push(`user ${u.name}: GPUs used ${u.gpu.used}, slots hold ${held}`);
    used += held;
    usedMin += Math.min(u.gpu.min, held);
  }
  const g = state.gpu;
  const total = state.nodes.reduce((s, n) => s + (n.drained || n.removed ? 0 : nodeGpuIndices(n).length * nodeGpuShare(n)), 0);
  if (g.total !== total) problems.push(`GPU total ${g.total}, nodes have ${total}`);
  if (g.used !== used) problems.push(`GPUs used ${g.used}, slots hold ${used}`);
  if (g.min !== state.users.reduce((s, u) => s + u.gpu.min, 0)) problems.push(`GPU minimums ${g.min} differ from the users' sum`);
  if (g.usedMin !== usedMin || slotMin !== usedMin)
    problems.push(`GPUs used inside minimums ${g.usedMin} (slots ${slotMin}), expected ${usedMin}`);
  return problems;
}
