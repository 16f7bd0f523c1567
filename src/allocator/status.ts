/**
 * The cluster status document (`qpy status`, `qpy-admin status`) built from
 * the allocator state: users in registration order, nodes in file order,
 * and warnings the operator should see.
 */
import { DEFAULT_LIMITS, sameLimits } from './limits-file.js';
import { DEFAULT_JOB_MEM_GB, type ClusterStatus, type NodeView, type UserView } from '../protocol/cluster.js';
import { MEM_RESERVE_GB, type AllocatorState, type NodeState, type UserState } from './state.js';
import { formatGB } from './feasible.js';
import { nodeGpuCount, nodeGpuShare } from './gpus.js';

/** A node's GPUs as status shows them, or nothing when it has none, no job holds one and its probe had no problem. */
function gpuView(n: NodeState): Pick<NodeView, 'gpus'> {
  const total = nodeGpuCount(n);
  const used = [...n.gpuUse.values()].reduce((a, b) => a + b, 0);
  const problem = n.gpuProblem === null ? {} : { problem: n.gpuProblem.slice(0, 1024) };
  if (total === 0 && used === 0 && n.gpuProblem === null) return {};
  return { gpus: { total, used, share: nodeGpuShare(n), outsiders: [...n.gpuOutsiders], ...problem } };
}

/** The warning for a node whose probe could not tell its GPUs, or null. */
function gpuWarning(n: NodeState): string | null {
  if (n.gpuProblem === null || n.removed) return null;
  return n.spec.gpus === undefined
    ? `node ${n.spec.name}: its GPUs are unknown, counted as 0: ${n.gpuProblem}`
    : `node ${n.spec.name}: its probe could not read its GPUs (${n.gpuProblem}): ` +
        `its gpus=${n.spec.gpus} stands, but processes outside qpy on them are not seen`;
}

/** Users whose masters cannot reach node `name`, with the reason each gave. */
function unreachableFor(users: readonly UserState[], name: string): { user: string; reason: string }[] {
  return users.flatMap((u) =>
    u.unreachable.has(name) ? [{ user: u.name, reason: u.unreachableReasons?.get(name) ?? 'its master cannot reach it' }] : [],
  );
}

function nodeView(n: NodeState, users: readonly UserState[]): NodeView {
  const cut = unreachableFor(users, n.spec.name);
  return {
    ...(cut.length > 0 ? { unreachableFor: cut } : {}),
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
    ...gpuView(n),
    ...(n.pilot === null ? {} : { pilot: { ...n.pilot, maxJobS: n.jobTime?.maxS ?? null, untimed: n.jobTime?.untimed ?? true } }),
  };
}

/**
 * A snapshot of the state as the wire's ClusterStatus. `usedCores` counts
 * qpy slots plus outsiders. Warnings report a failed distribution, slots
 * held on nodes that are no longer configured, nodes whose GPUs the probe
 * could not tell (with the reason), nodes some user's master cannot reach
 * (with its reason), and nodes too small for a job of the default memory
 * once the system reserve is taken.
 */
export function buildStatus(state: AllocatorState): ClusterStatus {
  const users: UserView[] = state.users.map((u) => ({
    name: u.name,
    usedCores: u.usedCores,
    queueSize: u.queueSize,
    minCores: u.min,
    extraCores: u.extra,
    ...(state.gpu.total > 0 || u.gpu.used > 0
      ? { gpus: { used: u.gpu.used, min: u.gpu.min, extra: u.gpu.extra, queue: u.gpu.queue } }
      : {}),
  }));
  const warnings: string[] = [];
  if (state.distributionError !== null) {
    warnings.push(`the distribution rules could not be applied: ${state.distributionError}`);
  }
  if (state.gpu.error !== null) warnings.push(`the distribution rules could not be applied to the GPUs: ${state.gpu.error}`);
  for (const u of state.users) {
    for (const s of u.slots.values()) {
      if (!state.nodeByName.has(s.node)) {
        warnings.push(
          `job ${s.jobId} of ${u.name} holds ${s.cores} core${s.cores === 1 ? '' : 's'} on node ${s.node}, which is not in the nodes file`,
        );
      }
    }
  }
  for (const n of state.nodes) {
    const gpu = gpuWarning(n);
    if (gpu !== null) warnings.push(gpu);
    for (const u of unreachableFor(state.users, n.spec.name))
      warnings.push(`node ${n.spec.name} is unreachable for ${u.user}: ${u.reason}`);
    // Probed nodes start at 0 GB until their probe answers: not flagged before.
    if (!n.removed && n.pilot === null && n.spec.memGB > 0 && n.spec.memGB - MEM_RESERVE_GB <= DEFAULT_JOB_MEM_GB) {
      warnings.push(
        `node ${n.spec.name} is too small for a default job: ${formatGB(n.spec.memGB)} GB of memory ` +
          `less the ${formatGB(MEM_RESERVE_GB)} GB system reserve leaves ${formatGB(Math.max(0, n.spec.memGB - MEM_RESERVE_GB))} GB, ` +
          `and a job of the default ${DEFAULT_JOB_MEM_GB} GB needs more (a node needs more than ${DEFAULT_JOB_MEM_GB + MEM_RESERVE_GB} GB): ` +
          `only jobs with a smaller -m run there`,
      );
    }
  }
  const outsiders = state.nodes.reduce((sum, n) => sum + n.outsiders, 0);
  return {
    users,
    nodes: state.nodes.map((n) => nodeView(n, state.users)),
    totalCores: state.totalCores,
    usedCores: state.usedCores + outsiders,
    warnings,
    ...(sameLimits(state.limits, DEFAULT_LIMITS) ? {} : { limits: state.limits }),
    ...(state.gpu.total > 0 || state.gpu.used > 0 ? { gpus: { total: state.gpu.total, used: state.gpu.used } } : {}),
    ...(state.pools.length > 0 ? { pools: state.pools } : {}),
  };
}
