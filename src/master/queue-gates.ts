/**
 * What a dispatch pass skips as it walks a queue that may hold a million
 * jobs, at a cost that does not grow with the queue: jobs waiting for
 * others (decided once per pass for each distinct set of dependencies; the
 * members of an array or a load share theirs), and jobs whose dependencies
 * can never be met, which leave the queue undone (looked for only when
 * `depsChanged` says some may have appeared).
 */
import type { Job, JobSpec } from '../protocol/job.js';
import { depStateOf, type DepState } from './deps.js';
import type { JobTable } from './job-table.js';
import { unqueue } from './lifecycle.js';
import { update, type MasterState } from './state.js';

type Deps = Pick<JobSpec, 'after' | 'afterok'>;

/** Dependency decisions for one pass, by the identity of a job's `after` and `afterok` arrays. */
export class DepMemo {
  private readonly byAfter = new Map<unknown, Map<unknown, DepState>>();

  constructor(private readonly jobs: JobTable) {}

  of(deps: Deps): DepState {
    let byAfterok = this.byAfter.get(deps.after);
    if (byAfterok === undefined) this.byAfter.set(deps.after, (byAfterok = new Map()));
    let d = byAfterok.get(deps.afterok);
    if (d === undefined) byAfterok.set(deps.afterok, (d = depStateOf(deps, this.jobs)));
    return d;
  }
}

/**
 * Queued jobs whose dependencies can never be met end undone now, with the
 * reason (each one's new version is returned, to commit). Walks the
 * dependent jobs only when `state.depsChanged` is set, and clears it.
 */
export function unqueueNeverRunnable(state: MasterState, now: number, memo = new DepMemo(state.jobs)): Job[] {
  if (!state.depsChanged) return [];
  state.depsChanged = false;
  const never: [number, string][] = [];
  for (const id of state.dependent) {
    const deps = state.jobs.depsOf(id);
    if (deps === undefined) continue;
    const d = memo.of(deps);
    if (d.kind === 'never') never.push([id, d.reason]);
  }
  const out: Job[] = [];
  for (const [id, reason] of never) {
    const job = state.jobs.get(id);
    if (job?.state.type === 'queue') out.push(update(state, unqueue(job, now, reason)));
  }
  return out;
}
