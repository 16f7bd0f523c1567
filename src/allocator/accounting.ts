/**
 * Slot accounting (§3.3, §3.8, §3.9): charging a granted or re-registered
 * slot to its user, its node and the global counters, releasing it, and an
 * audit that recomputes every counter from the slots (used by tests, and
 * cheap enough for a daemon's debug check).
 */
import { MEM_RESERVE_GB, reassignMinCores, type AllocatorState, type SlotRecord, type UserState } from './state.js';

/** What a slot occupies; the allocator adds which part is inside the guarantee. */
export interface SlotRequest {
  jobId: number;
  node: string;
  cores: number;
  memGB: number;
}

/**
 * Charge a slot without any capacity check (grants check first; registration
 * deliberately does not, §3.9). A slot on a node that is not configured is
 * still charged to its user and the global total, so shares stay honest
 * until it is released. The caller ensures the job id is not held already.
 */
export function chargeSlot(state: AllocatorState, user: UserState, req: SlotRequest): SlotRecord {
  const c = req.cores;
  user.usedCores += c;
  const used = user.usedCores;
  // §3.3: the part of this slot that falls inside the user's minimum.
  const minCores = used < user.min ? c : used < user.min + c ? c + user.min - used : 0;
  const slot: SlotRecord = { jobId: req.jobId, node: req.node, cores: c, memGB: req.memGB, minCores };
  user.slots.set(req.jobId, slot);
  state.usedCores += c;
  state.usedMinCores += minCores;
  const node = state.nodeByName.get(req.node);
  if (node !== undefined) {
    node.usedCores += c;
    node.reqMemGB += req.memGB;
    node.slotCount++;
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
    // Reset exactly when empty so floating-point sums cannot drift.
    node.reqMemGB = node.slotCount === 0 ? MEM_RESERVE_GB : node.reqMemGB - slot.memGB;
  }
  reassignMinCores(state, user);
  return slot;
}

/**
 * Recompute every counter from the slots and list each mismatch or negative
 * value, one sentence each. An empty list means the books balance.
 */
export function auditCounters(state: AllocatorState): string[] {
  const problems: string[] = [];
  const perNode = new Map<string, { cores: number; mem: number; count: number }>();
  let used = 0;
  let usedMin = 0;
  let slotMin = 0;
  for (const u of state.users) {
    let userUsed = 0;
    for (const s of u.slots.values()) {
      userUsed += s.cores;
      slotMin += s.minCores;
      if (s.minCores < 0 || s.minCores > s.cores) problems.push(`slot ${s.jobId} of ${u.name} has minCores ${s.minCores}`);
      const n = perNode.get(s.node) ?? { cores: 0, mem: 0, count: 0 };
      n.cores += s.cores;
      n.mem += s.memGB;
      n.count++;
      perNode.set(s.node, n);
    }
    if (userUsed !== u.usedCores) problems.push(`user ${u.name}: usedCores ${u.usedCores}, slots hold ${userUsed}`);
    used += userUsed;
    usedMin += Math.min(u.min, userUsed);
  }
  for (const node of state.nodes) {
    const n = perNode.get(node.spec.name) ?? { cores: 0, mem: 0, count: 0 };
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
  return problems;
}
