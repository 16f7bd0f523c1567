/**
 * Shared helpers for the executor integration tests: collecting job ends and
 * inspecting process groups through /proc.
 */
import type { Executor, JobEnded, LaunchSpec } from '../../../src/executor/executor.js';
import { waitFor } from '../../helpers/wait.js';
import { groupMembers, procTable } from '../../helpers/procs.js';

export { parentOf } from '../../helpers/procs.js';

export { groupMembers };

/** Records every end an executor reports; `ended(id)` waits for one. */
export function collect(ex: Executor) {
  const ends = new Map<number, JobEnded[]>();
  ex.onEnded((e) => {
    const list = ends.get(e.jobId) ?? [];
    list.push(e);
    ends.set(e.jobId, list);
  });
  return {
    ends,
    /** Wait for job `id`'s end (and check it was reported only once). */
    async ended(id: number, timeoutMs = 10_000): Promise<JobEnded> {
      const list = await waitFor(() => ends.get(id), { timeoutMs, what: `end of job ${id}`, intervalMs: 5 });
      if (list.length !== 1) throw new Error(`job ${id} reported ${list.length} times`);
      return list[0]!;
    },
  };
}

/** A job's end without its usage (measured, so not to be compared as a whole). */
export const bare = ({ usage: _, ...e }: JobEnded): JobEnded => e;

/** A launch spec with the usual QPY variables. */
export function spec(jobId: number, command: string, cwd: string, env: Record<string, string> = {}): LaunchSpec {
  return { jobId, command, cwd, env: { QPY_JOB_ID: String(jobId), QPY_N_CORES: '1', QPY_MEM: '1.0', ...env } };
}

/** Children (live) of a process. */
export function childrenOf(pid: number): number[] {
  return procTable().flatMap((p) => (p.pgid === pid && p.ppid === pid && p.state !== 'Z' && p.state !== 'X' ? [p.pid] : []));
}
