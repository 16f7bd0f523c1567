/**
 * One user's jobs and queue, in memory: the master's whole state, restored
 * from the store at start. Functions here mutate the state they are given and
 * return what changed, so the daemon knows what to commit; they never do I/O.
 */
import type { Job, JobSpec } from '../protocol/job.js';
import { QpyError } from '../errors.js';
import { newJob } from './lifecycle.js';

export interface MasterState {
  /** Every job not cleaned, by ID (Map order = submission order). */
  jobs: Map<number, Job>;
  /** IDs of queued jobs, head first. */
  queue: number[];
  /** The next ID to give; IDs are never reused. */
  nextId: number;
  paused: boolean;
  /** IDs of queued jobs that depend on others (`--after`, `--afterok`): the only ones a dispatch pass must check. */
  dependent: Set<number>;
  /** IDs of running jobs (few, next to a queue that may hold a million). */
  active: Set<number>;
}

export function emptyState(): MasterState {
  return { jobs: new Map(), queue: [], nextId: 1, paused: false, dependent: new Set(), active: new Set() };
}

const hasDeps = (job: Job): boolean => job.spec.after !== undefined || job.spec.afterok !== undefined;

/**
 * Rebuild the state from stored rows. Repairs: the ID counter is never below
 * the largest stored ID + 1 (an unreadable counter is ignored); queued jobs
 * missing from the order are appended. A job stored twice: the last copy wins.
 */
export function restoreState(jobs: Job[], queue: number[], nextId: number, paused: boolean): MasterState {
  const state = emptyState();
  let maxId = 0;
  for (const job of jobs) {
    state.jobs.set(job.id, job);
    maxId = Math.max(maxId, job.id);
  }
  const seen = new Set<number>();
  for (const id of queue) {
    if (state.jobs.get(id)?.state.type === 'queue' && !seen.has(id)) {
      seen.add(id);
      state.queue.push(id);
    }
  }
  for (const job of state.jobs.values()) if (job.state.type === 'queue' && !seen.has(job.id)) state.queue.push(job.id);
  for (const id of state.queue) if (hasDeps(state.jobs.get(id)!)) state.dependent.add(id);
  for (const job of state.jobs.values()) if (job.state.type === 'running') state.active.add(job.id);
  state.nextId = Math.max(Number.isSafeInteger(nextId) ? nextId : 1, maxId + 1, 1);
  state.paused = paused;
  return state;
}

/** Accept a job: it gets the next ID and joins the tail of the queue. */
export function submit(state: MasterState, spec: JobSpec, now: number): Job {
  const job = newJob(state.nextId++, spec, now);
  state.jobs.set(job.id, job);
  // Behind every queued job of the same or a higher priority (an append when priorities are not used).
  const p = spec.priority ?? 0;
  let at = state.queue.length;
  while (at > 0 && (state.jobs.get(state.queue[at - 1]!)?.spec.priority ?? 0) < p) at--;
  if (at === state.queue.length) state.queue.push(job.id);
  else state.queue.splice(at, 0, job.id);
  if (hasDeps(job)) state.dependent.add(job.id);
  return job;
}

/** A queued job's stored position: priority first (higher, earlier), then submission order. */
export function queuePos(job: Job): number {
  return job.id - (job.spec.priority ?? 0) * 1e12;
}

/** Store the new version of a job, keeping the queue consistent with its status. */
export function update(state: MasterState, job: Job, { front = false } = {}): Job {
  const before = state.jobs.get(job.id);
  if (!before) throw new QpyError('NOT_FOUND', `job ${job.id} does not exist`);
  state.jobs.set(job.id, job);
  const wasQueued = before.state.type === 'queue';
  const isQueued = job.state.type === 'queue';
  if (job.state.type === 'running') state.active.add(job.id);
  else state.active.delete(job.id);
  if (wasQueued && !isQueued) {
    const i = state.queue.indexOf(job.id);
    if (i >= 0) state.queue.splice(i, 1);
    state.dependent.delete(job.id);
  } else if (!wasQueued && isQueued) {
    if (front) state.queue.unshift(job.id);
    else state.queue.push(job.id);
    if (hasDeps(job)) state.dependent.add(job.id);
  }
  return job;
}

/** Forget final jobs (clean). */
export function remove(state: MasterState, ids: number[]): void {
  for (const id of ids) state.jobs.delete(id);
}

/** The queue position to store for a job: its index in the queue, or null if not queued. */
export function queuePositions(state: MasterState): Map<number, number> {
  const pos = new Map<number, number>();
  state.queue.forEach((id, i) => pos.set(id, i));
  return pos;
}

/** Jobs currently running (including those whose kill was asked for). */
export function running(state: MasterState): Job[] {
  const out: Job[] = [];
  for (const id of state.active) {
    const job = state.jobs.get(id);
    if (job?.state.type === 'running') out.push(job);
  }
  return out.sort((a, b) => a.id - b.id); // in submission order
}
