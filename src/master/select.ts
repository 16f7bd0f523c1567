/**
 * Which jobs a selector names (status words, directories, ID ranges; OR-ed),
 * and the plans for `kill` and `clean` built on it (`check`'s is check-plan.ts).
 */
import { isStarting, type Job } from '../protocol/job.js';
import type { Selector } from '../protocol/selector.js';
import { isFinal } from './lifecycle.js';
import { RunBuilder } from './id-runs.js';

/** Is `id` in any of the inclusive ranges? */
export function inRanges(id: number, ranges: readonly (readonly [number, number])[]): boolean {
  for (const [a, b] of ranges) if (id >= a && id <= b) return true;
  return false;
}

function underDir(cwd: string, dirs: string[]): boolean {
  return dirs.includes(cwd);
}

/** Does `job` match any part of `sel`? `all` matches every job; `running` matches the jobs still starting too. */
export function matches(job: Job, sel: Selector): boolean {
  return (
    sel.statuses.includes('all') ||
    sel.statuses.includes(job.state.type) ||
    (sel.statuses.includes('starting') && isStarting(job)) ||
    underDir(job.spec.cwd, sel.dirs) ||
    inRanges(job.id, sel.ranges)
  );
}

export function isEmpty(sel: Selector): boolean {
  return sel.statuses.length === 0 && sel.dirs.length === 0 && sel.ranges.length === 0;
}

/**
 * What `kill` will do: queued jobs to unqueue, running jobs to kill (not
 * already being killed). Queued jobs that `isCompact` (compact members of an
 * array or a load, see JobTable) are given as runs of IDs instead, to be
 * unqueued without building them.
 */
export function planKill(
  jobs: Iterable<Job>,
  sel: Selector,
  isCompact: (id: number) => boolean = () => false,
): { compact: RunBuilder; unqueue: Job[]; kill: Job[] } {
  const plan = { compact: new RunBuilder(), unqueue: [] as Job[], kill: [] as Job[] };
  for (const job of jobs) {
    const hit = matches(job, sel);
    if (hit && job.state.type === 'queue' && isCompact(job.id)) {
      plan.compact.add(job.id);
      continue;
    }
    plan.compact.skip();
    if (!hit) continue;
    if (job.state.type === 'queue') plan.unqueue.push(job);
    else if (job.state.type === 'running' && !job.state.killRequested) plan.kill.push(job);
  }
  return plan;
}

/** The final jobs `clean` removes, as runs of IDs (a million are not listed one by one). */
export function planClean(jobs: Iterable<Job>, sel: Selector): RunBuilder {
  const out = new RunBuilder();
  for (const job of jobs) {
    if (isFinal(job) && matches(job, sel)) out.add(job.id);
    else out.skip();
  }
  return out;
}
