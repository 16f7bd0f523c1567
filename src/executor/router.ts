/**
 * One executor over many nodes: each job goes to its node's executor (the
 * shared local one for nodes at this machine, an SSH executor per remote
 * node), and later calls about the job find it again by its ID.
 */
import type { Executor, JobEnded } from './executor.js';
import { QpyError } from '../errors.js';

export function createRouter(byNode: ReadonlyMap<string, Executor>): Executor {
  const nodeOf = new Map<number, Executor>();
  const listeners: ((e: JobEnded) => void)[] = [];
  const distinct = [...new Set(byNode.values())];
  for (const ex of distinct) ex.onEnded((e) => listeners.forEach((l) => l(e)));
  const pick = (jobId: number, node: string | undefined): Executor => {
    const ex = node === undefined ? nodeOf.get(jobId) : byNode.get(node);
    if (!ex) throw new QpyError('LAUNCH_FAILED', `job ${jobId}: node ${node ?? '?'} is not in the nodes file`);
    nodeOf.set(jobId, ex);
    return ex;
  };
  return {
    launch: (spec) => pick(spec.jobId, spec.node).launch(spec),
    adopt: (jobId, pid, node) => pick(jobId, node).adopt(jobId, pid, node),
    async kill(jobId, pid, graceMs) {
      await nodeOf.get(jobId)?.kill(jobId, pid, graceMs);
    },
    pidOf: (jobId) => nodeOf.get(jobId)?.pidOf(jobId) ?? null,
    onEnded(listener) {
      listeners.push(listener);
    },
    forget(jobId) {
      nodeOf.get(jobId)?.forget(jobId);
      nodeOf.delete(jobId);
    },
    async close() {
      await Promise.all(distinct.map((ex) => ex.close()));
    },
  };
}
