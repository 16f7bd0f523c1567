/**
 * The cluster status document (`qpy status`, `qpy-admin status`) built from
 * the allocator state: users in registration order, nodes in file order,
 * and warnings the operator should see.
 */
import type { ClusterStatus, NodeView, UserView } from '../protocol/cluster.js';
import type { AllocatorState, NodeState } from './state.js';

function nodeView(n: NodeState): NodeView {
  return {
    name: n.spec.name,
    address: n.spec.address,
    cores: n.spec.cores,
    usedCores: n.usedCores,
    outsiders: n.outsiders,
    load: n.load,
    totalMemGB: n.spec.memGB,
    usedMemGB: n.usedMemGB,
    reqMemGB: n.reqMemGB,
    disk: n.disk === null ? null : { ...n.disk },
    attributes: [...n.spec.attributes],
    up: n.up,
    drained: n.drained,
    removed: n.removed,
    prefMulticore: n.spec.prefMulticore,
  };
}

/**
 * A snapshot of the state as the wire's ClusterStatus. `usedCores` counts
 * qpy slots plus outsiders. Warnings report a failed distribution and slots
 * held on nodes that are no longer configured.
 */
export function buildStatus(state: AllocatorState): ClusterStatus {
  const users: UserView[] = state.users.map((u) => ({
    name: u.name,
    usedCores: u.usedCores,
    queueSize: u.queueSize,
    minCores: u.min,
    extraCores: u.extra,
  }));
  const warnings: string[] = [];
  if (state.distributionError !== null) {
    warnings.push(`the distribution rules could not be applied: ${state.distributionError}`);
  }
  for (const u of state.users) {
    for (const s of u.slots.values()) {
      if (!state.nodeByName.has(s.node)) {
        warnings.push(`job ${s.jobId} of ${u.name} holds ${s.cores} core${s.cores === 1 ? '' : 's'} on node ${s.node}, which is not in the nodes file`);
      }
    }
  }
  const outsiders = state.nodes.reduce((sum, n) => sum + n.outsiders, 0);
  return {
    users,
    nodes: state.nodes.map(nodeView),
    totalCores: state.totalCores,
    usedCores: state.usedCores + outsiders,
    warnings,
  };
}
