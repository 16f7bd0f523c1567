/**
 * What the master does when a node answers: a launch confirmed or failed,
 * a job's end, the answer to an adoption after a restart, a node given up.
 * Each is a pure function of the state, the answer and `now`, returning the
 * effects for the daemon to carry out (see effects.ts).
 */
import type { Job, Outcome, Usage } from '../protocol/job.js';
import type { Effect } from './effects.js';
import * as life from './lifecycle.js';
import { queuePos, running, update, type MasterState } from './state.js';

/** A failed launch, as the daemon classes it from the executor's error. */
export type LaunchFailure =
  /** Nothing was started: the node could not be reached, or refused us. */
  | 'not_reached'
  /** The link died mid-launch: the job may run. */
  | 'link_lost'
  /** The job could not be started at all: it never ran. */
  | 'error';

/** The class of a failed launch: `notReached` as the executor tells it (nodeNotReached), else by its error code. */
export function launchFailureClass(notReached: boolean, code: string | null): LaunchFailure {
  if (notReached) return 'not_reached';
  return code === 'NODE_LINK_LOST' ? 'link_lost' : 'error';
}

/** Its node confirmed a launch: the job's process group is known (in memory only: a restarted master reads it from the run file). */
export function launched(state: MasterState, jobId: number, pid: number): Effect[] {
  const current = state.jobs.get(jobId);
  if (current?.state.type !== 'running' || current.state.pid !== null) return [];
  const withPid = update(state, life.launched(current, pid));
  // A kill asked for while it was starting is carried out now.
  return withPid.state.type === 'running' && withPid.state.killRequested ? [{ type: 'kill', job: withPid }] : [];
}

/** A launch failed (`message` says why). */
export function launchFailed(state: MasterState, jobId: number, failure: LaunchFailure, message: string, now: number): Effect[] {
  const current = state.jobs.get(jobId);
  if (current?.state.type !== 'running' || current.state.pid !== null) return []; // its node went down meanwhile
  switch (failure) {
    case 'not_reached': {
      // Nothing started (the node is now reported unreachable to the allocator): queued again, first in line.
      const queued = update(state, life.requeue(current), { front: true });
      const put: Effect = current.state.killRequested
        ? { type: 'put', job: update(state, life.unqueue(queued, now)), pos: null }
        : { type: 'put', job: queued, pos: queued.id }; // stored by submission order; first in line until a restart
      return [
        { type: 'log', text: `job ${jobId} not started, node ${current.state.node} unreachable: queued again` },
        put,
        { type: 'releaseAtNextPass', jobId },
        { type: 'dispatch' },
      ];
    }
    case 'link_lost':
      return [
        { type: 'log', text: `launch of job ${jobId}: ${message}; adopting it when the node answers` },
        { type: 'adopt', jobs: [current] },
      ];
    case 'error':
      return [
        { type: 'log', text: `launch of job ${jobId} failed: ${message}` },
        ...jobEnded(state, jobId, { outcome: { type: 'error', message } }, now),
      ];
  }
}

/**
 * A run's end as its node told it (the executor's JobEnded, less its job
 * ID): its outcome, or `error` when it could not start at all, and what it
 * used when that was measured.
 */
export interface RunEnd {
  outcome: Outcome;
  error?: string;
  usage?: Usage;
  /** The limit that ended it (see life.EndFacts). */
  limit?: life.EndFacts['limit'];
}

/** The final state of a running job from its run's end: done, failed, killed, timeout or out_of_memory, with the run's usage. */
export function endedJob(job: Job, end: RunEnd, now: number): Job {
  const outcome: Outcome = end.error !== undefined ? { type: 'error', message: end.error } : end.outcome;
  return life.end(job, outcome, now, {
    ...(end.limit !== undefined ? { limit: end.limit } : {}),
    ...(end.usage !== undefined ? { usage: end.usage } : {}),
  });
}

/**
 * A job's process ended (after its kill, if one was under way). It ends
 * done, failed, killed, timeout or out_of_memory (`facts`: the limit that
 * ended it, and what it used); a failed job with `--retry` left is queued again
 * under the same ID, this run kept as an attempt. Its slot is given back at
 * the next pass, and its run file forgotten once its end is durable.
 */
export function jobEnded(state: MasterState, jobId: number, end: RunEnd, now: number): Effect[] {
  const job = state.jobs.get(jobId);
  // A node_failed job's end, seen when its node came back: already final, only its run record goes.
  if (job?.state.type === 'node_failed') return [{ type: 'forget', jobId }];
  if (job?.state.type !== 'running') return [];
  const finished = update(state, endedJob(job, end, now));
  const effects: Effect[] = [];
  if (life.retriesLeft(finished)) {
    const again = update(state, life.requeueFinal(finished, now));
    const attempt = (again.attempts?.length ?? 0) + 1;
    effects.push(
      { type: 'log', text: `job ${jobId} failed; queued again (attempt ${attempt} of ${(job.spec.retries ?? 0) + 1})` },
      { type: 'put', job: again, pos: queuePos(again) },
    );
  } else effects.push({ type: 'put', job: finished, pos: null });
  // No reply waits on this commit, and the run file that records the end stays until it is done.
  effects.push(
    { type: 'commitSoon', afterwards: [{ type: 'forget', jobId }] },
    { type: 'releaseAtNextPass', jobId, ended: finished.state.type },
    { type: 'dispatch' },
  );
  return effects;
}

/** What an adoption found of a job a former master life left running. */
export type Adopted = 'never_started' | 'running' | 'ended';

/**
 * A job left running, adopted: one whose launch provably never happened is
 * queued again (`requeued`: to be moved to the head with requeueFirst), or
 * ends undone if it was killed meanwhile; one still running gets its pid if
 * it was not known, and its pending kill resumed. An ended one's end comes
 * through the executor.
 */
export function adoptAnswer(
  state: MasterState,
  job: Job,
  found: Adopted,
  pid: number | null,
  now: number,
): { effects: Effect[]; requeued: boolean } {
  if (job.state.type !== 'running') return { effects: [], requeued: false };
  if (found === 'never_started') {
    const effects: Effect[] = [{ type: 'release', jobId: job.id }];
    const queued = update(state, life.requeue(job));
    if (job.state.killRequested) {
      effects.push({ type: 'put', job: update(state, life.unqueue(queued, now)), pos: null });
      effects.push({ type: 'log', text: `job ${job.id} was killed before it started: undone` });
      return { effects, requeued: false };
    }
    effects.push({ type: 'log', text: `job ${job.id} was never started: queued again` });
    return { effects, requeued: true };
  }
  if (found === 'ended') return { effects: [], requeued: false };
  const effects: Effect[] = [];
  let current = job;
  if (job.state.pid === null && pid !== null) {
    current = update(state, life.launched(job, pid));
    effects.push({ type: 'put', job: current, pos: null });
  }
  if (current.state.type === 'running' && current.state.killRequested) effects.push({ type: 'kill', job: current });
  return { effects, requeued: false };
}

/**
 * Jobs queued again by adoption go to the head of the queue, in their old order. Only they are written:
 * stored first in line (`pos: 'first'`), so the rest of the queue (a million jobs, say) is not rewritten.
 */
export function requeueFirst(state: MasterState, ids: readonly number[]): Effect[] {
  if (ids.length === 0) return [];
  for (const id of ids) state.queue.remove(id);
  for (const id of [...ids].reverse()) state.queue.unshift(id);
  return ids.map((id): Effect => ({ type: 'put', job: state.jobs.get(id)!, pos: 'first' }));
}

/**
 * Its node is gone for good, and nothing of these node_failed jobs is left
 * there (a Slurm pilot that ended, issue 18): each with `--retry` left is
 * queued again under its ID, its run kept as an attempt.
 */
export function retryNodeGone(state: MasterState, ids: readonly number[], now: number): Effect[] {
  const effects: Effect[] = [];
  for (const id of ids) {
    const job = state.jobs.get(id);
    if (job === undefined || !life.retriesLeftAfterNodeGone(job)) continue;
    const again = update(state, life.requeueFinal(job, now));
    const attempt = (again.attempts?.length ?? 0) + 1;
    effects.push(
      { type: 'log', text: `job ${id} node_failed; queued again (attempt ${attempt} of ${(job.spec.retries ?? 0) + 1})` },
      { type: 'put', job: again, pos: queuePos(again) },
    );
  }
  if (effects.length > 0) effects.push({ type: 'dispatch' });
  return effects;
}

/** Its node stayed unreachable past the down timeout: each of its running jobs becomes node_failed. The IDs failed. */
export function failNodeJobs(state: MasterState, node: string, now: number): { failed: number[]; effects: Effect[] } {
  const failed: number[] = [];
  const effects: Effect[] = [];
  for (const job of running(state)) {
    if (job.state.type !== 'running' || job.state.node !== node) continue;
    effects.push({ type: 'put', job: update(state, life.nodeFailed(job, now)), pos: null });
    failed.push(job.id);
  }
  return { failed, effects };
}
