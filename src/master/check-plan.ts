/**
 * What one `qpy check` lists, pure: the IDs of the jobs to show, in list
 * order, and the arrays and loads summed up when they are (`--groups`, or by
 * default once more than CHECK_LIMIT jobs match, see protocol/user-master.ts). Only IDs are kept, so a
 * listing of two million jobs is two million numbers, read a page at a time.
 */
import type { GroupSummary, Job } from '../protocol/job.js';
import type { Selector } from '../protocol/selector.js';
import { GroupSummer } from './group-summary.js';
import { IdSet } from './id-runs.js';
import { isEmpty, matches } from './select.js';

/** `jobs`: every job (`--all`); `groups`: arrays and loads summed up (`--groups`); `auto`: jobs, or groups past `limit`. */
export type CheckView = 'auto' | 'jobs' | 'groups';

export interface CheckPlan {
  /** The jobs to list (those in no array or load when `groups` is set), in list order. */
  ids: number[];
  /** The arrays and loads summed up, or null when they are listed job by job. */
  groups: GroupSummary[] | null;
  /** How many jobs matched. */
  matched: number;
  /** Whether any matching job is queued. */
  anyQueued: boolean;
}

/**
 * Plan a check over `jobs` (in ID order). In list order, the places of
 * queued jobs are taken by the queued jobs in queue order, so priorities and
 * a `ctrlQueue jump` show. `bound`: above every job ID.
 */
export function planCheck(
  jobs: Iterable<Job>,
  sel: Selector,
  queue: Iterable<number>,
  view: CheckView,
  limit: number,
  bound: number,
): CheckPlan {
  const all = isEmpty(sel);
  const summer = view === 'jobs' ? null : new GroupSummer();
  let ids: number[] = [];
  const singles: number[] = [];
  let matched = 0;
  let anyQueued = false;
  let summed = view === 'groups';
  const queued = new IdSet(bound);
  for (const job of jobs) {
    if (!all && !matches(job, sel)) continue;
    matched++;
    if (job.state.type === 'queue') anyQueued = true;
    const member = summer?.add(job);
    if (view === 'auto' && !summed && matched > limit) {
      summed = true;
      ids = singles; // from now on, only the jobs in no array or load are listed
    }
    if (member && summed) continue;
    ids.push(job.id);
    if (view === 'auto' && !summed && !member) singles.push(job.id);
    if (job.state.type === 'queue') queued.add(job.id);
  }
  return { ids: inQueueOrder(ids, queue, queued, bound), groups: summed && summer !== null ? summer.groups() : null, matched, anyQueued };
}

/** `ids` with the places of the queued ones (those of them in `queued`) taken by them in queue order. */
function inQueueOrder(ids: number[], queue: Iterable<number>, queued: IdSet, bound: number): number[] {
  if (queued.size === 0) return ids;
  const here = new IdSet(bound);
  for (const id of ids) if (queued.has(id)) here.add(id);
  if (here.size === 0) return ids;
  const order: number[] = [];
  for (const id of queue) if (here.has(id)) order.push(id);
  let next = 0;
  for (let i = 0; i < ids.length && next < order.length; i++) if (here.has(ids[i]!)) ids[i] = order[next++]!;
  return ids;
}
