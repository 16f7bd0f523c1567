/**
 * The GPU section of `qpy status` and `qpy-admin status` (issue 16), shown
 * only where the cluster has GPUs, after the original's tables (which stay
 * byte for byte as they were): per node, jobs on its GPUs out of its GPUs
 * (× its gpu_share), and those a process outside qpy holds, or why its
 * GPUs are unknown; per user, the GPUs in use and its part.
 */
import type { ClusterStatus } from '../protocol/cluster.js';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The GPU lines, each ending in a newline, or '' when the cluster has no GPUs and no node's are unknown. */
export function formatGpus(status: ClusterStatus): string {
  const unknown = status.nodes.some((n) => n.gpus?.problem !== undefined);
  if (status.gpus === undefined && !unknown) return '';
  const { used, total } = status.gpus ?? { used: 0, total: 0 };
  const lines: string[] = [`GPUs: ${used} of ${total} in use.`];
  for (const n of status.nodes) {
    if (n.gpus === undefined) continue;
    const g = n.gpus;
    if (g.total === 0 && g.used === 0 && g.problem !== undefined) {
      lines.push(`  node ${n.name}: GPUs unknown (${g.problem})`);
      continue;
    }
    const share = g.share > 1 ? ` (${g.share} jobs each)` : '';
    const out = g.outsiders.length > 0 ? `; held by processes outside qpy: GPU ${g.outsiders.join(', ')}` : '';
    const problem = g.problem === undefined ? '' : `; its probe could not read them (${g.problem})`;
    lines.push(`  node ${n.name}: ${g.used} of ${g.total * g.share} in use, ${plural(g.total, 'GPU')}${share}${out}${problem}`);
  }
  for (const u of status.users) {
    if (u.gpus === undefined) continue;
    lines.push(
      `  user ${u.name}: ${u.gpus.used} in use, part ${u.gpus.min + u.gpus.extra}${u.gpus.min > 0 ? ` (${u.gpus.min} guaranteed)` : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
