/**
 * The master daemon's context: the pure core's state (src/master/core.ts)
 * and the adapters that carry out its decisions (the store's committer, the
 * executor, the allocator link, the log, the clock). Every module of the
 * daemon takes one of these; they are declared here, apart from the modules
 * that use them, so those never import each other for a type.
 */
import type { Job } from '../../protocol/job.js';
import type { RunEnd } from '../../master/job-events.js';
import type { QpyError } from '../../errors.js';
import type { MasterCore } from '../../master/core.js';
import type { Executor } from '../../executor/executor.js';
import type { Committer } from '../../store/group-commit.js';
import type { JobStore } from '../../store/job-store.js';
import type { AllocatorLink } from './allocator-link.js';
import type { Waits } from './waits.js';
import type { Log } from '../shared/log.js';
import type { MasterToCli } from '../../protocol/user-master.js';

/** The user's page (web.ts): served from the first `open`, told of every committed write. */
export interface UserWebLink {
  /** Serve the page (if not yet) and mint a one-time token: the `web` reply. */
  open(id: number): Promise<Extract<MasterToCli, { type: 'web' }>>;
  changed(): void;
  close(): Promise<void>;
}

export interface Runtime extends MasterCore {
  committer: Committer;
  executor: Executor;
  /** What grants slots: the embedded allocator, or qpy-multiuser over the network. */
  allocator: AllocatorLink;
  log: Log;
  now(): number;
  killGraceMs: number;
  /** Set while the master shuts down: nothing new is started. */
  stopping: boolean;
  /** A problem that stops new jobs from being accepted (a bad nodes file), or null. */
  configProblem: QpyError | null;
  /** Where script copies go (copyScripts). */
  scriptsDir: string;
  /** The store's history table (read by `qpy history`; written through the committer). */
  history: Pick<JobStore['history'], 'read'>;
  /** `qpy wait` requests, told of every final state committed. */
  waits: Waits;
  /** Jobs whose adoption failed already (logged once per job, not at every retry). */
  adoptFailures: Set<number>;
  /** The node where what is left of a node_failed job has not been killed yet, or null. */
  leftoverOn(jobId: number): string | null;
  /** Begin a graceful stop. */
  finish(): void;
  /** The user's web page (`qpy web`), told of changes that are not written (a launch confirmed). */
  web: UserWebLink;
}

/** Runs the queue (dispatch.ts): passes, launches, kills, ends and slot releases. */
export interface Dispatcher {
  /** Ask for a dispatch pass soon (coalesced: many events, one pass). */
  poke(): void;
  /** Record that a job's process ended (after its kill, if one is under way, has finished). */
  ended(jobId: number, end: RunEnd): void;
  /** Kill a running job whose kill was recorded: TERM, then KILL after the grace period. */
  kill(job: Job): void;
  /** Start a job committed as running; resolves once its launch is settled. */
  launch(job: Job): Promise<void>;
  /** Give a job's slot back to the allocator; `ended`: its final status, when its run ended (qpy-multiuser counts failures). */
  release(jobId: number, ended?: string): Promise<void>;
  /** Give it back when the next pass starts, in the same turn as the requests that may reuse the slot. */
  releaseAtNextPass(jobId: number, ended?: string): void;
  /** Find out whether these running jobs run (adopt.ts), again until their nodes answer. */
  adopt(jobs: Job[]): void;
  /** Resolves when no pass is running or pending and no launch awaits its node's answer. */
  idle(): Promise<void>;
}

/** What a CLI request's handler reads and changes. */
export interface MasterContext extends Runtime {
  dispatcher: Dispatcher;
}
