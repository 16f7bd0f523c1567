/**
 * The executor interface: how the master starts, watches and kills jobs on a
 * node. Shared by the local executor (this machine) and the SSH executor
 * (remote nodes). Jobs are started DETACHED: they survive the master's death,
 * and a restarted master re-adopts them with `adopt`.
 */
import type { EndLimit } from '../protocol/usage.js';
import type { LimitsMethod } from './agent-script.js';
import type { Outcome, Usage } from '../protocol/job.js';
import type { ErrorCode } from '../protocol/error-codes.js';
import { QpyError } from '../errors.js';
/** SSH failures in plain words, for the daemon (which reaches src/ssh only through the executor). */
export { plainSshProblem, sshCause } from '../ssh/plain-words.js';

/**
 * Codes of a launch that provably reached nothing on its node (it could not
 * be connected to, or refused us): the job may simply be queued again.
 * A launch failing with NODE_LINK_LOST may have started: adopt it.
 */
const NODE_NOT_REACHED: ReadonlySet<ErrorCode> = new Set([
  'NODE_UNREACHABLE',
  'SSH_CONNECT',
  'SSH_AUTH',
  'SSH_CONFIG',
  'HOST_KEY',
  'NODE_AGENT',
]);

/** Did this launch failure certainly start nothing, because the node could not be reached? */
export function nodeNotReached(err: unknown): boolean {
  return err instanceof QpyError && NODE_NOT_REACHED.has(err.code);
}

/** Everything needed to start one job. */
export interface LaunchSpec {
  jobId: number;
  /** The node it was granted (the router picks that node's executor; single-node executors ignore it). */
  node?: string;
  /** Shell command line, run by a POSIX sh (see wrapper.ts). */
  command: string;
  /** Absolute directory the job runs in. */
  cwd: string;
  /**
   * Its standard output and error files, relative to `cwd` or absolute
   * (protocol/output-names.ts); absent: `job_<ID>.out`, `job_<ID>.err`. The
   * same file for both: standard error goes into the output's file.
   */
  out?: string;
  err?: string;
  /** Exported to the job: QPY_JOB_ID, QPY_NODE, QPY_N_CORES, QPY_MEM… Names must be valid shell names. */
  env: Record<string, string>;
  /**
   * A wall-time limit, kept by the node's agent from the launch on, with or
   * without a master (bash 4.4+ agents; not enforced under sh): the job's
   * group gets TERM at `seconds`, KILL `graceMs` later if anything is left.
   */
  timeLimit?: { seconds: number; graceMs: number };
  /**
   * A memory limit, kept the same way: the resident memory of the job's
   * process and its descendants, sampled once a second from /proc; above
   * `kb`, TERM to its group, KILL `graceMs` later.
   */
  memLimit?: { kb: number; graceMs: number };
}

/** The limits a node agent keeps. */
export type Limit = EndLimit;

/** A job's end, as reported through `onEnded`. */
export interface JobEnded {
  jobId: number;
  outcome: Outcome;
  /**
   * Set when the command could not be run at all (its directory is
   * missing or not accessible, or the output files cannot be created): a
   * human-readable reason. The outcome is then `{ type: 'exit', code: 126 }`.
   */
  error?: string;
  /** Set when the job was ended by its limit (`time`, `memory`: see LaunchSpec.timeLimit, memLimit). */
  limit?: Limit;
  /**
   * What the run used, as its node agent (or wrapper) measured it, told
   * live or read from its run file on adoption; absent where nothing was
   * measured (see Usage).
   */
  usage?: Usage;
}

/** What `adopt` found: see `Executor.adopt`. */
export type AdoptResult = 'running' | 'ended' | 'never_started';

/** Starts, watches and kills detached jobs on one node. */
export interface Executor {
  /**
   * Start the job detached; resolves with the job's process group id once the
   * process exists. Rejects as `nodeNotReached` when nothing was started, or
   * with NODE_LINK_LOST when the link died mid-launch (the job may run).
   */
  launch(spec: LaunchSpec): Promise<{ pid: number }>;
  /**
   * Watch a job started by an earlier master life. pid may be null when the
   * master died between recording the launch and learning the pid.
   * 'never_started' means it is now guaranteed the job will NEVER start (so
   * the master may queue it again); 'ended' means its end will be (or was)
   * reported through onEnded.
   */
  adopt(jobId: number, pid: number | null, node?: string): Promise<AdoptResult>;
  /**
   * TERM to the whole process group, then KILL after graceMs if anything of
   * it is still alive. Killing a job that already ended is not an error.
   */
  kill(jobId: number, pid: number, graceMs: number): Promise<void>;
  /**
   * Kill what is left of a job given up for node_failed, whether or not its
   * wrapper ended (children of the wrapper may outlive it in its group): TERM,
   * KILL after graceMs, then true once the group has no live member left,
   * false if some still live.
   */
  killLeftover(jobId: number, pid: number, graceMs: number): Promise<boolean>;
  /** The process group of a job this executor watches (launched or adopted), or null. */
  pidOf(jobId: number): number | null;
  /**
   * Up to `max` bytes of the file at `path` from `offset` on, read on the
   * node of job `jobId` (where the job writes it: fresher than a shared
   * file system's copy). Empty when there is nothing more, or no file yet.
   */
  readOutput(jobId: number, path: string, offset: number, max: number): Promise<Buffer>;
  /**
   * How the agent on `node` keeps limits and measures usage: from /proc, or
   * not at all (no bash 4.4 or no /proc there); null while no agent has
   * started there yet.
   */
  limitsOn(node: string): LimitsMethod | null;
  /** Subscribe to job ends (exactly once per job per executor life). */
  onEnded(listener: (e: JobEnded) => void): void;
  /** Forget a job's run files once the master recorded its end durably. */
  forget(jobId: number): void;
  /** Stop watching a job without reporting its end (its node went down and it was given up: node_failed). */
  abandon(jobId: number): void;
  /** Stop watching. Running jobs are NOT killed: they keep running detached. */
  close(): Promise<void>;
}
