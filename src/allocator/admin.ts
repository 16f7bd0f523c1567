/**
 * What the administrator changes while jobs run (reference §3.10 [REBUILD],
 * §3.5): reloading the nodes by diff, draining and resuming a node, removing
 * a user. Pure state changes; the daemon reads the files and persists.
 *
 * Reload keeps the usage of nodes that stay; a node gone from the file keeps
 * taking no jobs until its last slot is released, then disappears; new nodes
 * are added idle. A removed user's running jobs finish; its new requests are
 * refused; it is forgotten once it holds nothing. Shares are redistributed
 * after every change of cores or users.
 */
import { newNode, recountCores, redistribute, type AllocatorState, type NodeSpec, type NodeState, type UserState } from './state.js';

export interface NodeDiff {
  added: string[];
  /** Gone from the file: dropped at once when idle, else draining until their jobs end. */
  removed: string[];
  /** Still there with a different address, capacity, attributes or preference. */
  changed: string[];
}

const sameSpec = (a: NodeSpec, b: NodeSpec): boolean =>
  a.address === b.address &&
  a.cores === b.cores &&
  a.memGB === b.memGB &&
  a.prefMulticore === b.prefMulticore &&
  a.checkDir === b.checkDir &&
  a.gpus === b.gpus &&
  a.gpuShare === b.gpuShare &&
  a.attributes.join(',') === b.attributes.join(',');

/** Make the node list `specs` (file order), keeping what runs; see the header. */
export function reloadNodes(state: AllocatorState, specs: readonly NodeSpec[]): NodeDiff {
  const diff: NodeDiff = { added: [], removed: [], changed: [] };
  const wanted = new Set(specs.map((s) => s.name));
  const nodes: NodeState[] = [];
  for (const spec of specs) {
    const old = state.nodeByName.get(spec.name);
    if (old === undefined) {
      nodes.push(newNode(spec));
      diff.added.push(spec.name);
      continue;
    }
    if (!sameSpec(old.spec, spec) || old.removed) diff.changed.push(spec.name);
    old.spec = { ...spec, attributes: [...spec.attributes] };
    old.removed = false;
    nodes.push(old);
  }
  for (const old of state.nodes) {
    if (wanted.has(old.spec.name)) continue;
    // A Slurm pilot's node is its pool runner's to add and take out (pilot-nodes.ts), not the file's.
    if (old.pilot !== null && !old.removed) {
      nodes.push(old);
      continue;
    }
    if (!old.removed) diff.removed.push(old.spec.name);
    old.removed = true;
    if (old.slotCount > 0) nodes.push(old);
  }
  state.nodes = nodes;
  state.nodeByName = new Map(nodes.map((n) => [n.spec.name, n]));
  recountCores(state);
  redistribute(state);
  return diff;
}

/** Drain (no new jobs, running ones go on) or resume a node. False if no such node. */
export function setDrained(state: AllocatorState, name: string, drained: boolean): boolean {
  const node = state.nodeByName.get(name);
  if (node === undefined || node.removed) return false;
  if (node.drained !== drained) {
    node.drained = drained;
    recountCores(state);
    redistribute(state);
  }
  return true;
}

/**
 * Remove a user: forgotten at once if it holds nothing, else marked removed
 * until its last slot is released. 'unknown' if not registered.
 */
export function removeUser(state: AllocatorState, name: string): 'forgotten' | 'draining' | 'unknown' {
  const user = state.userByName.get(name);
  if (user === undefined) return 'unknown';
  user.removed = true;
  return forgetIfIdle(state, user) ? 'forgotten' : 'draining';
}

/** A removed user that holds no slot is dropped (shares redistributed). True if dropped. */
export function forgetIfIdle(state: AllocatorState, user: UserState): boolean {
  if (!user.removed || user.slots.size > 0) return false;
  state.users = state.users.filter((u) => u !== user);
  state.userByName.delete(user.name);
  redistribute(state);
  return true;
}

/** A removed node whose last slot was released disappears. True if dropped. */
export function pruneNode(state: AllocatorState, name: string): boolean {
  const node = state.nodeByName.get(name);
  if (node === undefined || !node.removed || node.slotCount > 0) return false;
  state.nodes = state.nodes.filter((n) => n !== node);
  state.nodeByName.delete(name);
  return true;
}

/** Drop every removed node that no longer holds a slot (after a registration settled many slots at once). */
export function pruneNodes(state: AllocatorState): void {
  for (const n of [...state.nodes]) if (n.removed && n.slotCount === 0) pruneNode(state, n.spec.name);
}
