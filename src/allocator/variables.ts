/**
 * `qpy-admin variables` (§6.5): the allocator's counters, nodes and users
 * with their slots, as text for debugging. Pure: state in, text out.
 */
import type { AllocatorState } from './state.js';
import { nodeGpuIndices, nodeGpuShare } from './gpus.js';

const pad = (name: string): string => name.padEnd(16);

export function formatVariables(state: AllocatorState): string {
  const outsiders = state.nodes.reduce((s, n) => s + n.outsiders, 0);
  const out = [
    `${pad('n_cores')} = ${state.totalCores}`,
    `${pad('n_min_cores')} = ${state.minCores}`,
    `${pad('n_used_cores')} = ${state.usedCores}`,
    `${pad('n_used_min_cores')} = ${state.usedMinCores}`,
    `${pad('n_outsiders')} = ${outsiders}`,
    '',
  ];
  if (state.nodes.length === 0) out.push('No nodes');
  else {
    out.push('Nodes:', '------', '');
    for (const n of state.nodes) {
      out.push(
        n.spec.name,
        `  address         = ${n.spec.address}`,
        `  max_cores       = ${n.spec.cores}`,
        `  n_used_cores    = ${n.usedCores}`,
        `  n_outsiders     = ${n.outsiders}`,
        `  n_gpus          = ${n.gpuDevices?.length ?? 'unknown'}`,
        `  gpu_outsiders   = [${n.gpuOutsiders.join(', ')}]`,
        `  total_mem       = ${n.spec.memGB}`,
        `  req_mem         = ${n.reqMemGB}`,
        `  used_mem        = ${n.usedMemGB}`,
        `  attributes      = [${n.spec.attributes.map((a) => `'${a}'`).join(', ')}]`,
        `  pref_multicores = ${n.spec.prefMulticore ? 'True' : 'False'}`,
        `  is_up           = ${n.up ? 'True' : 'False'}`,
        `  drained         = ${n.drained ? 'True' : 'False'}`,
        `  removed         = ${n.removed ? 'True' : 'False'}`,
      );
      const gpus = nodeGpuIndices(n);
      if (gpus.length > 0 || n.gpuUse.size > 0)
        out.push(
          `  gpus            = [${gpus.join(', ')}]`,
          `  gpu_share       = ${nodeGpuShare(n)}`,
          `  gpu_jobs        = {${[...n.gpuUse].map(([i, k]) => `${i}: ${k}`).join(', ')}}`,
          `  gpu_outsiders   = [${n.gpuOutsiders.join(', ')}]`,
        );
    }
  }
  out.push('');
  if (state.users.length === 0) out.push('No users');
  else {
    out.push('Users:', '------', '');
    for (const u of state.users) {
      out.push(
        u.name + (u.removed ? ' (removed)' : ''),
        `  min_cores    = ${u.min}`,
        `  extra_cores  = ${u.extra}`,
        `  max_cores    = ${u.min + u.extra}`,
        `  n_used_cores = ${u.usedCores}`,
        `  n_queue      = ${u.queueSize}`,
      );
      for (const s of u.slots.values())
        out.push(
          `          ${s.jobId}: node = ${s.node}, n_cores = ${s.cores}, mem = ${s.memGB}${s.gpus.length > 0 ? `, gpus = ${s.gpus.join(',')}` : ''}`,
        );
    }
  }
  return `${out.join('\n')}\n`;
}
