/**
 * What the master's pure decisions ask the daemon to do. Every request
 * handler, dispatch step and job event in src/master returns its effects
 * as a list of these; the daemon (src/daemons/master/effects.ts) carries
 * them out in order and decides nothing. A test records them instead (a
 * recording outbox) and checks the decision alone.
 */
import type { Job } from '../protocol/job.js';

export type Effect =
  /**
   * Write a job; `pos` is its queue position (null when not queued, 'keep' leaves the stored one, 'first':
   * before every queued job, as the write finds them; several in one commit keep their order).
   */
  | { type: 'put'; job: Job; pos: number | null | 'keep' | 'first' }
  /** Write the jobs `first`…`last` just submitted, as they are when the write runs (compact members stay compact). */
  | { type: 'putNew'; first: number; last: number }
  /** Every job `first`…`last` (there may be gaps) was unqueued at `at`. */
  | { type: 'unqueueRange'; first: number; last: number; at: number }
  /** Remove every job in these sorted runs of IDs. */
  | { type: 'removeRanges'; runs: [number, number][] }
  | { type: 'setMeta'; key: string; value: string }
  | { type: 'deleteMeta'; key: string }
  /**
   * Commit what was written, now, and wait until it is durable. If it fails,
   * `undo` is carried out and the request fails with the store's error:
   * nothing after it is done.
   */
  | { type: 'commit'; undo?: Effect[] }
  /** Commit within a moment (no reply waits on it); `afterwards` once it is durable. */
  | { type: 'commitSoon'; afterwards: Effect[] }
  /** Start a job that was granted a slot and committed as running. */
  | { type: 'launch'; job: Job }
  /** TERM the job's process group, then KILL after the grace period. */
  | { type: 'kill'; job: Job }
  /** Give a job's slot back to the allocator now. */
  | { type: 'release'; jobId: number }
  /**
   * Give it back when the next dispatch pass starts, in the same turn as the requests that may reuse it.
   * `ended`: the run's final status when it ended (qpy-multiuser's ledger counts failures by it).
   */
  | { type: 'releaseAtNextPass'; jobId: number; ended?: string }
  /** The executor forgets a job's run files (its end is durable). */
  | { type: 'forget'; jobId: number }
  /** Find out whether these running jobs run (as for a restarted master). */
  | { type: 'adopt'; jobs: Job[] }
  /** Ask for a dispatch pass soon. */
  | { type: 'dispatch' }
  /** Take new jobs `first`…`last` back out of the state (their commit failed). */
  | { type: 'takeBack'; first: number; last: number }
  /** Remove a file the request made (a script copy whose job was not committed). */
  | { type: 'removeFile'; path: string }
  /** A line in the master's log. */
  | { type: 'log'; text: string }
  /** Begin a graceful stop, once the reply is sent. */
  | { type: 'stop' };

/** A request's decision: the reply to send once every effect is carried out. */
export interface Decision<R> {
  reply: R;
  effects: Effect[];
}
