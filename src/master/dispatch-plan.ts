/**
 * One dispatch pass, decided here and driven by the daemon (dispatch.ts):
 * first the dependants that can never run end undone; then the queue is
 * walked in order, and `next` names each job to ask the allocator a slot
 * for, skipping held jobs, jobs still waiting on others, full arrays
 * (`%N` caps) and jobs at least as big as one already refused for lack of
 * room. `answer` takes the allocator's replies in request order: a grant
 * starts the job (committed before it is launched), a refusal is kept for
 * `qpy why`, and an error (qpy-multiuser away, or refusing this user)
 * ends the pass. A job that does not fit now never blocks a later one
 * that does.
 */
import type { Job, JobSpec } from '../protocol/job.js';
import type { AllocatorToMaster, Demand, MasterToAllocator } from '../protocol/master-allocator.js';
import type { Refusal } from './core.js';
import { hasDeps } from './deps.js';
import type { QueueWalk } from './job-queue.js';
import { DepMemo, unqueueNeverRunnable } from './queue-gates.js';
import type { Effect } from './effects.js';
import * as life from './lifecycle.js';
import { running, update, type MasterState } from './state.js';

type SlotRequest = Extract<MasterToAllocator, { type: 'request' }>;

/** Is there any point in a pass (not paused, not stopping, something queued)? */
export function passWanted(state: MasterState, stopping: boolean): boolean {
  return !state.paused && !stopping && state.queue.length > 0;
}

/**
 * Queued dependants whose dependencies can never be met end undone, with
 * the reason (their own dependants are decided in the next pass, once this
 * is committed); those still waiting are skipped by this pass.
 */
export function settleDependants(state: MasterState, now: number): { deps: DepMemo; effects: Effect[] } {
  // Decided once per pass for each distinct set of dependencies (queue-gates.ts): members of an array share theirs.
  const deps = new DepMemo(state.jobs);
  const never = unqueueNeverRunnable(state, now, deps);
  const effects: Effect[] = never.map((job) => ({ type: 'put', job, pos: null }));
  if (never.length > 0) {
    effects.push(
      { type: 'log', text: `jobs ${never.map((j) => j.id).join(' ')} will never run: a job they needed did not succeed` },
      { type: 'commitSoon', afterwards: [{ type: 'dispatch' }] },
    );
  }
  return { deps, effects };
}

/** The allocator request for a job's slot. */
/** What a job asks of the allocator: its size and place, and the limits it will be kept to. */
export function demandOf(spec: JobSpec): Demand {
  return {
    cores: spec.cores,
    memGB: spec.memGB,
    attrs: spec.attrs,
    ...(spec.time !== undefined ? { time: spec.time } : {}),
    ...(spec.memLimit === true ? { memLimit: true } : {}),
    ...(spec.gpus !== undefined && spec.gpus > 0 ? { gpus: spec.gpus } : {}),
  };
}

export function slotRequest(user: string, job: Job, queueSize: number, gpuQueue = 0): Omit<SlotRequest, 'id'> {
  return {
    type: 'request',
    user,
    jobId: job.id,
    demand: demandOf(job.spec),
    queueSize,
    ...(gpuQueue > 0 ? { gpuQueue } : {}),
  };
}

/**
 * How many queued jobs ask for GPUs (sent with each request, so that a user
 * with none lends its GPU share). A compact run of an array or a load is
 * counted from its first member without reading the others. Walks the
 * queue only while `state.gpuQueued`: a user who never asks for GPUs pays
 * nothing.
 */
export function gpuQueueOf(state: MasterState): number {
  if (!state.gpuQueued) return 0;
  let n = 0;
  const walk = state.queue.walk();
  for (let it = walk.next(); !it.done; it = walk.next()) {
    const id = it.value;
    if (state.jobs.isCompactQueued(id)) {
      // The group's members share its spec; those queued from here on in this run of IDs are all its own.
      const end = Math.min(state.jobs.runEnd(id), walk.runLast);
      if ((state.jobs.get(id)?.spec.gpus ?? 0) > 0) n += end - id + 1;
      walk.skipThrough(end);
      continue;
    }
    if ((state.jobs.get(id)?.spec.gpus ?? 0) > 0) n++;
  }
  if (n === 0) state.gpuQueued = false;
  return n;
}

/** The walk of one pass over the queue, and what it does with the allocator's answers. */
export class PassPlan {
  /** Jobs started by this pass (committed as running, launched once the commit is durable). */
  readonly granted: Job[] = [];
  /** 'more': keep asking; 'enough': stop asking (later grants are still taken); 'abort': give them back. */
  private outcome: 'more' | 'enough' | 'abort' = 'more';
  /** The smallest core count refused for lack of room: no job as big is asked for in this pass. */
  private noRoomFrom = Infinity;
  /** Likewise the smallest GPU count refused for lack of GPU room (no_gpu_room). */
  private noGpuRoomFrom = Infinity;
  /** The walk over the queue as the pass began (jobs leave it as they start); never a copy, which a million-job queue would make slow. */
  private readonly walk: QueueWalk;
  /** Jobs of each capped array running now, counted once per pass, and only once a capped job is met. */
  private groupRunning: Map<number, number> | null = null;
  private readonly capOf = new Map<number, number>();

  constructor(
    private readonly state: MasterState,
    private readonly deps: DepMemo,
    private readonly refusals: Map<number, Refusal>,
  ) {
    this.walk = state.queue.walk();
  }

  /** The next job to ask a slot for, or null when the pass asks no more. */
  next(): Job | null {
    const { state } = this;
    // Members of one array or load share their cap, cores and dependencies: where one cannot be asked for, the rest of its run is skipped.
    for (let it = this.walk.next(); this.outcome === 'more' && !it.done; it = this.walk.next()) {
      const id = it.value;
      const gid = state.jobs.groupOf(id);
      // A full capped array: its jobs are not even read.
      if (gid !== undefined && this.groupRunning !== null && (this.groupRunning.get(gid) ?? 0) >= (this.capOf.get(gid) ?? Infinity)) {
        this.walk.skipThrough(state.jobs.runEnd(id));
        continue;
      }
      const job = state.jobs.get(id);
      if (job?.state.type !== 'queue' || job.state.held) continue;
      const gpuFull = (job.spec.gpus ?? 0) > 0 && (job.spec.gpus ?? 0) >= this.noGpuRoomFrom;
      if (job.spec.cores >= this.noRoomFrom || gpuFull || (hasDeps(job.spec) && this.deps.of(job.spec).kind !== 'ready')) {
        this.walk.skipThrough(state.jobs.runEnd(id));
        continue;
      }
      const g = job.spec.group;
      if (g?.cap !== undefined) {
        this.groupRunning ??= countCapped(state);
        this.capOf.set(g.id, g.cap);
        const n = this.groupRunning.get(g.id) ?? 0;
        if (n >= g.cap) continue;
        this.groupRunning.set(g.id, n + 1); // counted as it is asked for: a refusal only makes the cap stricter for this pass
      }
      return job;
    }
    return null;
  }

  /** One reply, in request order, at `now`. `halted`: the master is stopping or was paused meanwhile. */
  answer(job: Job, reply: AllocatorToMaster, halted: boolean, now: number): Effect[] {
    if (this.outcome === 'abort') return reply.type === 'granted' ? [{ type: 'release', jobId: job.id }] : [];
    const effects: Effect[] = [];
    const next = this.take(job, reply, halted, now, effects);
    if (next !== 'more') this.outcome = next;
    return effects;
  }

  private take(job: Job, reply: AllocatorToMaster, halted: boolean, now: number, effects: Effect[]): 'more' | 'enough' | 'abort' {
    if (halted) {
      if (reply.type === 'granted') effects.push({ type: 'release', jobId: job.id });
      return 'abort';
    }
    if (reply.type === 'granted') {
      const current = this.state.jobs.get(job.id);
      if (current?.state.type !== 'queue') {
        effects.push({ type: 'release', jobId: job.id }); // killed while we asked: the slot goes straight back
        return 'more';
      }
      this.refusals.delete(job.id);
      const gpus = { ...(reply.gpus ? { gpus: reply.gpus } : {}), ...(reply.gpuUuids ? { gpuUuids: reply.gpuUuids } : {}) };
      const started = update(this.state, life.start(current, reply.node, now, gpus));
      effects.push({ type: 'put', job: started, pos: null });
      this.granted.push(started);
      return 'more';
    }
    if (reply.type === 'refused') {
      this.refusals.set(job.id, reply.reason);
      if (reply.reason === 'no_room') this.noRoomFrom = Math.min(this.noRoomFrom, job.spec.cores);
      if (reply.reason === 'no_gpu_room') this.noGpuRoomFrom = Math.min(this.noGpuRoomFrom, job.spec.gpus ?? 0);
      return this.noRoomFrom <= 1 ? 'enough' : 'more';
    }
    const unreachable = reply.type === 'error' && reply.code === 'ALLOCATOR_UNREACHABLE';
    const refused = reply.type === 'error' && (reply.code === 'NOT_ALLOWED' || reply.code === 'UNAUTHENTICATED');
    if (unreachable) this.refusals.set(job.id, 'unreachable');
    else if (refused) this.refusals.set(job.id, 'not_allowed');
    // qpy-multiuser away, or refusing this user: jobs wait, and the link reports it once.
    else effects.push({ type: 'log', text: `allocator answered ${reply.type} to a request: ${JSON.stringify(reply)}` });
    return 'abort';
  }

  /** The pass's commit is durable: launch what it started. */
  launches(): Effect[] {
    return this.granted.map((job) => ({ type: 'launch', job }));
  }

  /** The pass's commit failed: not durable, so not launched. Back to the head of the queue, slots returned. */
  commitFailed(): Effect[] {
    const effects: Effect[] = [];
    for (const job of [...this.granted].reverse()) {
      const current = this.state.jobs.get(job.id);
      if (current?.state.type === 'running' && current.state.pid === null) update(this.state, life.requeue(current), { front: true });
      effects.push({ type: 'release', jobId: job.id });
    }
    return effects;
  }
}

function countCapped(state: MasterState): Map<number, number> {
  const m = new Map<number, number>();
  for (const j of running(state)) if (j.spec.group?.cap !== undefined) m.set(j.spec.group.id, (m.get(j.spec.group.id) ?? 0) + 1);
  return m;
}
