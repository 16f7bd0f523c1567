/**
 * One user's jobs and queue, in memory: the master's whole state, restored
 * from the store at start. Functions here mutate the state they are given and
 * return what changed, so the daemon knows what to commit; they never do I/O.
 */
import type { Job, JobSpec } from '../protocol/job.js';
import type { Slot } from '../protocol/master-allocator.js';
import { QpyError } from '../errors.js';
import { newJob } from './lifecycle.js';
import { JobTable, type CompactRow, type GroupTemplate } from './job-table.js';
import { IdSet } from './id-runs.js';
import { JobQueue } from './job-queue.js';
import { hasDeps } from './deps.js';

export interface MasterState {
  /** Every job not cleaned, by ID (iterated in submission order). */
  jobs: JobTable;
  /** IDs of queued jobs, head first (runs of consecutive IDs: see JobQueue). */
  queue: JobQueue;
  /** The next ID to give; IDs are never reused. */
  nextId: number;
  paused: boolean;
  /** IDs of queued jobs that depend on others (`--after`, `--afterok`): the only ones a dispatch pass must check. */
  dependent: Set<number>;
  /** IDs of running jobs (few, next to a queue that may hold a million). */
  active: Set<number>;
  /**
   * Set when a queued job may have found that its dependencies can never be
   * met: a job ended otherwise than done, or was cleaned, or a dependent
   * job was queued. The next dispatch pass then looks (see queue-gates.ts).
   */
  depsChanged: boolean;
  /** Set when a job asking for GPUs joins the queue: while set, a dispatch pass counts them (gpuQueueOf), and clears it at 0. */
  gpuQueued: boolean;
}

export function emptyState(): MasterState {
  return {
    jobs: new JobTable(),
    queue: new JobQueue(),
    nextId: 1,
    paused: false,
    dependent: new Set(),
    active: new Set(),
    depsChanged: false,
    gpuQueued: false,
  };
}

/** A compact member as the store gives it back (see job-store.ts). */
export interface CompactStored {
  id: number;
  compact: CompactRow;
  template: GroupTemplate;
}

/**
 * Rebuild the state from stored rows. Repairs: the ID counter is never below
 * the largest stored ID + 1 (an unreadable counter is ignored); queued jobs
 * missing from the order are appended. A job stored twice: the last copy wins.
 */
export function restoreState(
  jobs: Iterable<Job | CompactStored>,
  queueOf: number[] | (() => number[]),
  nextId: number,
  paused: boolean,
): MasterState {
  const state = emptyState();
  let maxId = 0;
  for (const job of jobs) {
    if ('compact' in job) {
      if (job.id > maxId) state.jobs.restoreCompact(job.id, job.template, job.compact);
      else state.jobs.set(JobTable.expandCompact(job.id, job.template, job.compact));
    } else if (job.id > maxId) state.jobs.restore(job);
    else state.jobs.set(job); // out of ID order (a copy of a job already read: the last wins)
    maxId = Math.max(maxId, job.id);
  }
  const queue = typeof queueOf === 'function' ? queueOf() : queueOf; // read with the jobs
  // IDs seen in the stored order (a bitmap: a million queued jobs make a big Set).
  const seen = new IdSet(maxId + 1);
  for (const id of queue) {
    if (state.jobs.statusOf(id) === 'queue' && !seen.has(id)) {
      seen.add(id);
      state.queue.push(id);
    }
  }
  for (const job of state.jobs.values()) {
    if (job.state.type === 'queue' && !seen.has(job.id)) state.queue.push(job.id);
    if (job.state.type === 'queue' && hasDeps(job.spec)) state.dependent.add(job.id);
    if (job.state.type === 'running') state.active.add(job.id);
  }
  state.nextId = Math.max(Number.isSafeInteger(nextId) ? nextId : 1, maxId + 1, 1);
  state.paused = paused;
  state.depsChanged = state.dependent.size > 0;
  state.gpuQueued = true; // the first pass counts them
  return state;
}

/** Accept a job: it gets the next ID and joins the tail of the queue. */
export function submit(state: MasterState, spec: JobSpec, now: number): Job {
  const job = newJob(state.nextId++, spec, now);
  state.jobs.set(job);
  enqueue(state, job.id, job.id, spec);
  return job;
}

/**
 * Accept the members of an array or a load at once, kept compact (see
 * JobTable): they get consecutive IDs, returned as [first, last]. `slots`
 * holds each member's command for a load, 1 for an array (whose command is
 * the base's); `base.group.index` is the first member's index.
 */
export function submitGroup(
  state: MasterState,
  base: JobSpec & { group: NonNullable<JobSpec['group']> },
  slots: (string | 1)[],
  now: number,
): [number, number] {
  const first = state.nextId;
  state.nextId += slots.length;
  state.jobs.addGroup(first, base, now, slots);
  enqueue(state, first, state.nextId - 1, base);
  return [first, state.nextId - 1];
}

/** Queue new jobs `first` … `last` behind every queued job of the same or a higher priority (an append when priorities are not used). */
function enqueue(state: MasterState, first: number, last: number, spec: JobSpec): void {
  const p = spec.priority ?? 0;
  let behind = 0;
  for (const id of state.queue.fromTail())
    if ((state.jobs.get(id)?.spec.priority ?? 0) < p) behind++;
    else break;
  state.queue.insertRun(state.queue.length - behind, first, last);
  if ((spec.gpus ?? 0) > 0) state.gpuQueued = true;
  if (!hasDeps(spec)) return;
  for (let id = first; id <= last; id++) state.dependent.add(id);
  state.depsChanged = true;
}

/** A queued job's stored position: priority first (higher, earlier), then submission order. */
export function queuePos(job: Job): number {
  return queuePosOf(job.id, job.spec.priority);
}

export function queuePosOf(id: number, priority: number | undefined): number {
  return id - (priority ?? 0) * 1e12;
}

/**
 * Store the new version of a job, keeping the queue consistent with its
 * status. `dequeued`: the caller already took it out of the queue (updateAll).
 */
export function update(state: MasterState, job: Job, { front = false, dequeued = false } = {}): Job {
  const before = state.jobs.statusOf(job.id);
  if (before === undefined) throw new QpyError('NOT_FOUND', `job ${job.id} does not exist`);
  state.jobs.set(job);
  const wasQueued = before === 'queue';
  const isQueued = job.state.type === 'queue';
  if (job.state.type === 'running') state.active.add(job.id);
  else state.active.delete(job.id);
  if (isQueued ? hasDeps(job.spec) && !wasQueued : job.state.type !== 'running' && job.state.type !== 'done') state.depsChanged = true;
  if (wasQueued && !isQueued) {
    if (!dequeued) state.queue.remove(job.id);
    state.dependent.delete(job.id);
  } else if (!wasQueued && isQueued) {
    if (front) state.queue.unshift(job.id);
    else state.queue.push(job.id);
    if (hasDeps(job.spec)) state.dependent.add(job.id);
    if ((job.spec.gpus ?? 0) > 0) state.gpuQueued = true;
  }
  return job;
}

/**
 * Store new versions of many jobs at once: like update, but when many leave
 * the queue they are taken out of it in one walk (killing a million queued
 * jobs is not a million searches of a million-long queue).
 */
export function updateAll(state: MasterState, jobs: readonly Job[]): void {
  const leaving = new Set(jobs.filter((j) => j.state.type !== 'queue' && state.jobs.statusOf(j.id) === 'queue').map((j) => j.id));
  const inOneWalk = leaving.size >= 32;
  if (inOneWalk) state.queue.removeWhere((id) => leaving.has(id));
  for (const job of jobs) update(state, job, { dequeued: inOneWalk && leaving.has(job.id) });
}

/** Compact queued members in these runs of IDs (see JobTable) leave the queue, undone at `at`, and stay compact. How many did. */
export function unqueueCompact(state: MasterState, runs: readonly (readonly [number, number])[], at: number): number {
  const leaving = new IdSet(state.nextId);
  for (const [a, b] of runs) {
    for (let id = a; id <= b; id++) {
      if (!state.jobs.unqueueCompact(id, at)) continue;
      leaving.add(id);
      state.dependent.delete(id);
    }
  }
  if (leaving.size > 0) {
    state.queue.removeWhere((id) => leaving.has(id));
    state.depsChanged = true;
  }
  return leaving.size;
}

/** Forget final jobs (clean): these IDs, or every ID in these runs. */
export function remove(state: MasterState, ids: readonly number[] | { runs: readonly (readonly [number, number])[] }): void {
  state.depsChanged = true;
  if (Array.isArray(ids)) {
    for (const id of ids) state.jobs.delete(id);
    return;
  }
  for (const [a, b] of (ids as { runs: readonly (readonly [number, number])[] }).runs)
    for (let id = a; id <= b; id++) state.jobs.delete(id);
}

/** The queue position to store for a job: its index in the queue, or null if not queued. */
export function queuePositions(state: MasterState): Map<number, number> {
  const pos = new Map<number, number>();
  let i = 0;
  for (const id of state.queue) pos.set(id, i++);
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

/** The slots the running jobs hold, as the allocator registers them. */
export function runningSlots(state: MasterState): Slot[] {
  return running(state).flatMap((j) =>
    j.state.type === 'running'
      ? [{ jobId: j.id, node: j.state.node, cores: j.spec.cores, memGB: j.spec.memGB, ...(j.state.gpus ? { gpus: j.state.gpus } : {}) }]
      : [],
  );
}
