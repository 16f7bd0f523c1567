/**
 * The wire shape of a job: what was asked (JobSpec) and where it stands
 * (JobState, one variant per status carrying exactly its own data).
 *
 * EDITORS: these shapes are also what the master stores in SQLite. Changing a
 * field means bumping SCHEMA_VERSION in src/store/schema.ts and adding a
 * migration, and adding a fixture under test/fixtures/.
 */
import { arrayOf, int, literal, nullable, num, obj, oneOf, optional, str, strMax, tagged, tuple, type Infer, bool } from './schema.js';

/** Every status a job can have, in the order `check` documents them. */
export const JOB_STATUSES = ['queue', 'running', 'done', 'failed', 'killed', 'timeout', 'out_of_memory', 'undone', 'node_failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * The statuses `check` shows: a job's status, except that a `running` job
 * whose launch is not confirmed yet (no process known on its node: the
 * launch is in flight, or its node has not answered since the master
 * restarted) shows as `starting`.
 */
export const SHOWN_STATUSES = [
  'queue',
  'starting',
  'running',
  'done',
  'failed',
  'killed',
  'timeout',
  'out_of_memory',
  'undone',
  'node_failed',
] as const;
export type ShownStatus = (typeof SHOWN_STATUSES)[number];

export const MAX_COMMAND_LENGTH = 128 * 1024;

/** `sub --notify`: when a job's notifiers run: at its end, at an end other than done, or at its start and its end. */
export const NOTIFY_WHEN = ['end', 'fail', 'all'] as const;
export type NotifyWhen = (typeof NOTIFY_WHEN)[number];
export const MAX_PATH_LENGTH = 4096;
/** The longest job name (`sub --name`, characters). */
export const MAX_JOB_NAME_LENGTH = 128;

/**
 * How a job's process ended: an exit code, a signal, unknown (its record
 * vanished: the node rebooted, say), or an error that kept the command from
 * running at all (its directory is gone, its output files cannot be created).
 */
export const outcomeSchema = tagged({
  exit: obj({ type: literal('exit'), code: int }),
  signal: obj({ type: literal('signal'), signal: strMax(32) }),
  lost: obj({ type: literal('lost') }),
  error: obj({ type: literal('error'), message: strMax(1024) }),
});
export type Outcome = Infer<typeof outcomeSchema>;

/**
 * What a run of a job used, as its node agent measured it: CPU time in user
 * and system mode of the job's process and every descendant it waited for,
 * and the peak resident memory of the job's processes (sampled). Absent where
 * nothing was measured (a run that never started, a node without /proc, or a
 * job that ended before this was recorded). `peakKB` is absent where no
 * sample was taken: a run of less than a second may have none, and a node
 * without bash 4.4 (its jobs run under a wrapper) samples nothing.
 */
export const usageSchema = obj({ userMs: num, sysMs: num, peakKB: optional(num) });
export type Usage = Infer<typeof usageSchema>;

/** What the user asked for. `command` is a shell command line, run by a POSIX `sh`. */
export const jobSpecSchema = obj({
  command: strMax(MAX_COMMAND_LENGTH),
  cwd: strMax(MAX_PATH_LENGTH),
  cores: int,
  memGB: num,
  /** The attribute expression as typed (after config defaults), or null for "any node". */
  attrs: nullable(strMax(4096)),
  /**
   * With copyScripts: the copy of the script the command's first word named
   * (`path`), run in its place: the command's first `wordEnd` characters are
   * replaced by it at launch. Removed once the job is final.
   */
  copy: optional(obj({ path: strMax(MAX_PATH_LENGTH), wordEnd: int })),
  /** `sub --priority N`: higher starts first; absent means 0. Ties keep submission order. */
  priority: optional(int),
  /**
   * One of many jobs submitted together (`sub --array`, `qpy load`): the
   * group's ID (its first job's), this job's index in it (QPY_ARRAY_INDEX),
   * and for arrays `%N`, how many of the group may run at once.
   */
  group: optional(obj({ id: int, index: int, kind: oneOf(['array', 'load'] as const), cap: optional(int) })),
  /** `sub --retry N`: a run that ends failed (not killed) is queued again, up to N more times. */
  retries: optional(int),
  /** `sub --after IDs`: start only once these jobs are final, however they ended. */
  after: optional(arrayOf(tuple(int, int), 10_000)),
  /** `sub --afterok IDs`: start only once these all ended `done`; if one ends otherwise, this job ends undone. */
  afterok: optional(arrayOf(tuple(int, int), 10_000)),
  /** `sub -t`: its wall-time limit in seconds; at the limit it gets TERM, then KILL, and ends `timeout`. */
  time: optional(int),
  /** Whether `memGB` is a limit on its resident memory (above it: TERM, then KILL, and it ends `out_of_memory`). */
  memLimit: optional(bool),
  /** `sub --name NAME`: shown by `check` (%J), QPY_JOB_NAME in the job, `%x` in its output file names (output-names.ts). */
  name: optional(strMax(MAX_JOB_NAME_LENGTH)),
  /** `sub --out PATTERN` / `--err PATTERN`: its output files (output-names.ts); absent: job_<ID>.out / job_<ID>.err. */
  out: optional(strMax(MAX_PATH_LENGTH)),
  err: optional(strMax(MAX_PATH_LENGTH)),
  /** `sub --notify`: when the notifyCommand and notifyMail settings are used for this job (absent: never). */
  notify: optional(oneOf(NOTIFY_WHEN)),
  /** `sub -g N`: how many GPUs (distinct devices of its node); absent: none. */
  gpus: optional(int),
});
export type JobSpec = Infer<typeof jobSpecSchema>;

/**
 * The GPUs a run was given (issue 16), from its grant: the device indices
 * (CUDA_VISIBLE_DEVICES, QPY_GPUS) and, where its node's probe knew them,
 * their UUIDs (QPY_GPU_UUIDS). Absent: the run holds no GPU.
 */
const runGpus = {
  gpus: optional(arrayOf(int, 1024)),
  gpuUuids: optional(arrayOf(strMax(256), 1024)),
};

/** What every run that ended knows: where and when it ran, how it ended, and what it used. */
const ranTo = { node: str, startedAt: num, endedAt: num, outcome: outcomeSchema, usage: optional(usageSchema) };

/** Times are milliseconds since the epoch. */
export const jobStateSchema = tagged({
  /** `held`: `qpy hold` keeps it queued but never started until `qpy release`. */
  queue: obj({ type: literal('queue'), held: optional(bool) }),
  running: obj({
    type: literal('running'),
    node: str,
    startedAt: num,
    /** Process group of the job (its wrapper's, on a node without bash); null until the launch is confirmed. */
    pid: nullable(int),
    /** Set when a kill was asked for: the job ends as `killed` whatever its exit. */
    killRequested: bool,
    ...runGpus,
  }),
  done: obj({ type: literal('done'), ...ranTo, ...runGpus }),
  failed: obj({ type: literal('failed'), ...ranTo, ...runGpus }),
  killed: obj({ type: literal('killed'), ...ranTo, ...runGpus }),
  /** Ended by its time limit (`spec.time`). */
  timeout: obj({ type: literal('timeout'), ...ranTo, ...runGpus }),
  /**
   * Ended by its memory limit: killed by its node agent above `spec.memGB`
   * (`by` absent), by the kernel within the job's cgroup, whose limit is
   * `spec.memGB` (`by: 'cgroup'`), or by the kernel's OOM killer with the
   * node out of memory (`by: 'kernel'`) where that can be told.
   */
  out_of_memory: obj({
    type: literal('out_of_memory'),
    ...ranTo,
    by: optional(oneOf(['kernel', 'cgroup'] as const)),
    ...runGpus,
  }),
  /** `reason`: why it never ran when it was not killed (a dependency that did not succeed). */
  undone: obj({ type: literal('undone'), endedAt: num, reason: optional(strMax(1024)) }),
  /**
   * Its node stayed unreachable past the down timeout while it ran: how it
   * ended is unknown. Anything of it still running when the node comes back
   * is killed then.
   */
  node_failed: obj({ type: literal('node_failed'), node: str, startedAt: num, endedAt: num, ...runGpus }),
});
export type JobState = Infer<typeof jobStateSchema>;

/** One earlier run of a job that was queued again (`--retry`, `qpy retry`, `qpy rerun`). */
export const attemptSchema = obj({
  status: oneOf(['done', 'failed', 'killed', 'timeout', 'out_of_memory', 'node_failed'] as const),
  node: str,
  startedAt: num,
  endedAt: num,
  outcome: nullable(outcomeSchema),
  usage: optional(usageSchema),
});
export type Attempt = Infer<typeof attemptSchema>;

export const jobSchema = obj({
  id: int,
  spec: jobSpecSchema,
  queuedAt: num,
  state: jobStateSchema,
  /** Earlier runs, oldest first; this run is attempt attempts.length + 1. */
  attempts: optional(arrayOf(attemptSchema, 10_000)),
});
export type Job = Infer<typeof jobSchema>;

/** Is this job's launch in flight (running, but no process of it known yet)? */
export const isStarting = (job: Job): boolean => job.state.type === 'running' && job.state.pid === null;

/** The status `check` shows for a job (see SHOWN_STATUSES). */
export const shownStatus = (job: Job): ShownStatus => (isStarting(job) ? 'starting' : job.state.type);

/**
 * `check --groups`: an array or a load in one line. `first`/`last`: its
 * lowest and highest job IDs listed; `indices`: their QPY_ARRAY_INDEX range;
 * `command`: the array's command, or the first listed line of a load;
 * `counts`: how many of the jobs listed are in each status (none left out).
 */
export const groupSummarySchema = obj({
  id: int,
  kind: oneOf(['array', 'load'] as const),
  cap: optional(int),
  first: int,
  last: int,
  indices: tuple(int, int),
  jobs: int,
  held: int,
  command: strMax(MAX_COMMAND_LENGTH),
  counts: arrayOf(tuple(oneOf(JOB_STATUSES), int), JOB_STATUSES.length),
});
export type GroupSummary = Infer<typeof groupSummarySchema>;

/**
 * How the master keeps (and stores) a compact member of an array or a load,
 * one that is plainly queued or was unqueued: its group, its command (a
 * load's; null for an array's) and when it became undone (null: queued).
 */
export interface CompactRow {
  group: number;
  command: string | null;
  endedAt: number | null;
}

/** A group's template as the store keeps it: the spec of its first member, and when the group was queued. */
export interface GroupTemplate {
  spec: JobSpec & { group: NonNullable<JobSpec['group']> };
  queuedAt: number;
}
