/**
 * Which jobs a selector names (status words, directories, ID ranges; OR-ed),
 * and the plans for `kill` and `clean` built on it.
 */
import { isStarting, type Job } from '../protocol/job.js';
import type { Selector } from '../protocol/selector.js';
import { isFinal } from './lifecycle.js';

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

/** The jobs matching `sel` (every job for an empty selector), as they are walked. */
export function* filterFor(jobs: Iterable<Job>, sel: Selector): Generator<Job> {
  const all = isEmpty(sel);
  for (const job of jobs) if (all || matches(job, sel)) yield job;
}

/**
 * Jobs for `check` (all of them for an empty selector), in job-list order:
 * the order of `jobs`, except that the places of queued jobs are taken by
 * the queued jobs in queue order, so a `ctrlQueue jump` shows.
 */
export function selectForCheck(jobs: Iterable<Job>, sel: Selector, queue: readonly number[] = []): Job[] {
  const out: Job[] = [];
  const all = isEmpty(sel);
  for (const job of jobs) if (all || matches(job, sel)) out.push(job);
  if (queue.length === 0) return out;
  const queuedHere = new Map(out.filter((j) => j.state.type === 'queue').map((j) => [j.id, j]));
  if (queuedHere.size === 0) return out; // nothing to reorder: the queue (maybe a million long) is not walked
  const inQueueOrder = queue.flatMap((id) => (queuedHere.has(id) ? [queuedHere.get(id)!] : []));
  let next = 0;
  return out.map((j) => (j.state.type === 'queue' && next < inQueueOrder.length ? inQueueOrder[next++]! : j));
}

/** What `kill` will do: queued jobs to unqueue, running jobs to kill (not already being killed). */
export function planKill(jobs: Iterable<Job>, sel: Selector): { unqueue: Job[]; kill: Job[] } {
  const plan = { unqueue: [] as Job[], kill: [] as Job[] };
  for (const job of jobs) {
    if (!matches(job, sel)) continue;
    if (job.state.type === 'queue') plan.unqueue.push(job);
    else if (job.state.type === 'running' && !job.state.killRequested) plan.kill.push(job);
  }
  return plan;
}

/** The final jobs `clean` removes. */
export function planClean(jobs: Iterable<Job>, sel: Selector): Job[] {
  const out: Job[] = [];
  for (const job of jobs) if (isFinal(job) && matches(job, sel)) out.push(job);
  return out;
}
