/**
 * One executor over many nodes: each job goes to its node's executor (the
 * shared local one for nodes at this machine, an SSH executor per remote
 * node, made when first needed), and later calls about the job find it again
 * by its ID.
 */
import type { Executor, JobEnded } from './executor.js';
import { QpyError } from '../errors.js';

export function createRouter(executorFor: (node: string) => Executor | undefined): Executor {
  const nodeOf = new Map<number, Executor>();
  const listeners: ((e: JobEnded) => void)[] = [];
  const used = new Set<Executor>();
  const pick = (jobId: number, node: string | undefined): Executor => {
    const ex = node === undefined ? nodeOf.get(jobId) : executorFor(node);
    if (!ex) throw new QpyError('LAUNCH_FAILED', `job ${jobId}: node ${node ?? '?'} is unknown (not in the nodes file, or never granted)`);
    if (!used.has(ex)) {
      used.add(ex);
      ex.onEnded((e) => {
        for (const l of listeners) l(e);
      });
    }
    nodeOf.set(jobId, ex);
    return ex;
  };
  return {
    launch: (spec) => pick(spec.jobId, spec.node).launch(spec),
    adopt: (jobId, pid, node) => pick(jobId, node).adopt(jobId, pid, node),
    async kill(jobId, pid, graceMs) {
      await nodeOf.get(jobId)?.kill(jobId, pid, graceMs);
    },
    killLeftover: (jobId, pid, graceMs) => nodeOf.get(jobId)?.killLeftover(jobId, pid, graceMs) ?? Promise.resolve(true),
    pidOf: (jobId) => nodeOf.get(jobId)?.pidOf(jobId) ?? null,
    limitsOn: (node) => executorFor(node)?.limitsOn(node) ?? null,
    async readOutput(jobId, path, offset, max) {
      const ex = nodeOf.get(jobId);
      if (!ex) throw new QpyError('NOT_FOUND', `job ${jobId} is not running on a node this master watches`);
      return ex.readOutput(jobId, path, offset, max);
    },
    onEnded(listener) {
      listeners.push(listener);
    },
    abandon(jobId) {
      nodeOf.get(jobId)?.abandon(jobId);
    },
    forget(jobId) {
      nodeOf.get(jobId)?.forget(jobId);
      nodeOf.delete(jobId);
    },
    async close() {
      await Promise.all([...used].map((ex) => ex.close()));
    },
  };
}
