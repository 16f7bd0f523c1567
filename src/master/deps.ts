/**
 * Job dependencies (`sub --after`, `--afterok`), pure: whether a queued job
 * may start, must wait, or can never run, from the states of the jobs it
 * names. A job that was cleaned away counts as ended (for `--after`) and as
 * unknown, so failed (for `--afterok`).
 */
import type { Job, JobSpec } from '../protocol/job.js';

/** Jobs by ID: a Map, or the master's JobTable. */
export interface JobLookup {
  get(id: number): Job | undefined;
  has(id: number): boolean;
}

/** Whether a job names others it must wait for. */
export const hasDeps = (spec: Pick<JobSpec, 'after' | 'afterok'>): boolean => spec.after !== undefined || spec.afterok !== undefined;

export type DepState = { kind: 'ready' } | { kind: 'waiting'; on: number[] } | { kind: 'never'; reason: string };

const FINAL = new Set(['done', 'failed', 'killed', 'timeout', 'out_of_memory', 'undone', 'node_failed']);

function* idsOf(ranges: readonly (readonly [number, number])[] | undefined): Generator<number> {
  for (const [a, b] of ranges ?? []) for (let id = a; id <= b; id++) yield id;
}

export function depState(job: Job, jobs: JobLookup): DepState {
  return depStateOf(job.spec, jobs);
}

/** Whether jobs with these dependencies may start (what depState decides from; the members of an array or a load share them). */
export function depStateOf(deps: Pick<JobSpec, 'after' | 'afterok'>, jobs: JobLookup): DepState {
  const waiting: number[] = [];
  for (const id of idsOf(deps.afterok)) {
    const d = jobs.get(id);
    if (d === undefined) return { kind: 'never', reason: `job ${id}, which it needed to succeed, was cleaned before it could be checked` };
    if (d.state.type === 'done') continue;
    if (FINAL.has(d.state.type))
      return { kind: 'never', reason: `job ${id} ${d.state.type === 'undone' ? 'never ran' : `ended ${d.state.type}`}` };
    waiting.push(id);
  }
  for (const id of idsOf(deps.after)) {
    const d = jobs.get(id);
    if (d !== undefined && !FINAL.has(d.state.type)) waiting.push(id);
  }
  return waiting.length === 0 ? { kind: 'ready' } : { kind: 'waiting', on: waiting };
}

/** The IDs among `ranges` that are not jobs (refused at submission), at most `max` of them. */
export function unknownIds(ranges: readonly (readonly [number, number])[], jobs: JobLookup, max = 5): number[] {
  const out: number[] = [];
  for (const id of idsOf(ranges)) {
    if (!jobs.has(id)) out.push(id);
    if (out.length >= max) break;
  }
  return out;
}

/**
 * `--after 7` where 7 is an array's or a load's ID names the whole group:
 * each such single ID becomes the ranges of the group's jobs still there
 * (members have consecutive IDs from the group's, with gaps where some were
 * cleaned). Ranges (`7-9`) and other IDs are kept as they are.
 */
export function withGroupsExpanded(
  ranges: readonly (readonly [number, number])[],
  jobs: JobLookup & { groupOf(id: number): number | undefined },
  nextId: number,
): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of ranges) {
    if (a !== b || jobs.groupOf(a) !== a) {
      out.push([a, b]);
      continue;
    }
    let runStart = a;
    let id = a + 1;
    for (; id < nextId; id++) {
      if (!jobs.has(id)) {
        if (runStart < id) out.push([runStart, id - 1]);
        runStart = id + 1;
      } else if (jobs.groupOf(id) !== a) break;
    }
    if (runStart < id) out.push([runStart, id - 1]);
  }
  return out;
}

/** IDs as a short list: `3,5-7`. */
export function formatIds(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
