/**
 * The nodes a Slurm pool's pilots bring (issue 18), added to and taken out
 * of the allocator's node list by the pool's runner: a pilot's node joins
 * when the pilot runs, and leaves when it ends. Leaving is like a node gone
 * from the nodes file: it takes no job and stays listed until its last slot
 * is released. A pilot's node gets its pool's name as an attribute, so that
 * `-a POOL` sends a job there, and all the memory Slurm gave the pilot goes
 * to jobs (no system reserve is kept back). Pure state changes.
 */
import type { PoolView } from '../protocol/cluster.js';
import { pruneNode } from './admin.js';
import { MEM_RESERVE_GB, newNode, recountCores, redistribute, type AllocatorState, type NodeSpec } from './state.js';

/** A joining pilot's node. */
export interface PilotNode {
  name: string;
  /** How masters reach it: its host (reach=ssh), or its agent's address (reach=agent). */
  address: string;
  pool: string;
  jobId: string;
  cores: number;
  /** The memory the pilot holds (GB). */
  memGB: number;
}

/** The node spec of a pilot, or of a pool's possible pilot (feasible.ts): the pool's name is an attribute. */
export function pilotSpec(p: Omit<PilotNode, 'jobId'>): NodeSpec {
  return {
    name: p.name,
    address: p.address,
    cores: p.cores,
    memGB: p.memGB + MEM_RESERVE_GB,
    attributes: [p.pool],
    prefMulticore: false,
    checkDir: null,
  };
}

/** Add a pilot's node (idle, up); an existing node of that name is taken over (a pilot known again after a restart). */
export function joinPilot(state: AllocatorState, p: PilotNode): void {
  const old = state.nodeByName.get(p.name);
  if (old !== undefined) {
    old.spec = pilotSpec(p);
    old.pilot = { pool: p.pool, jobId: p.jobId };
    old.removed = false;
  } else {
    const node = newNode(pilotSpec(p));
    node.pilot = { pool: p.pool, jobId: p.jobId };
    // Slots restored before the node was known again (a daemon's restart) are counted on it now.
    for (const u of state.users)
      for (const slot of u.slots.values())
        if (slot.node === p.name) {
          node.usedCores += slot.cores;
          node.reqMemGB += slot.memGB;
          node.slotCount++;
        }
    state.nodes.push(node);
    state.nodeByName.set(p.name, node);
  }
  recountCores(state);
  redistribute(state);
}

/** Take a pilot's node out: gone at once when idle, else listed (taking no job) until its last slot is released. False if unknown. */
export function leavePilot(state: AllocatorState, name: string): boolean {
  const node = state.nodeByName.get(name);
  if (node === undefined || node.pilot === null) return false;
  node.removed = true;
  node.jobTime = null;
  pruneNode(state, name);
  recountCores(state);
  redistribute(state);
  return true;
}

/** Bound the jobs a pilot's node takes by its time left (plan.ts `jobTime`). False if unknown. */
export function setJobTime(state: AllocatorState, name: string, maxS: number, untimed: boolean): boolean {
  const node = state.nodeByName.get(name);
  if (node === undefined || node.pilot === null) return false;
  node.jobTime = { maxS, untimed };
  return true;
}

/** What the pools' runner tells of its pools and pilots (for status, why and feasibility). */
export function setPools(state: AllocatorState, pools: PoolView[]): void {
  state.pools = pools;
}
