/**
 * The link between the user's CLI (`qpy`) and their master (`qpy-master`):
 * one request union (CliToMaster) and one reply union (MasterToCli). Every
 * request carries an `id` that its reply echoes.
 */
import { arrayOf, bool, int, literal, nullable, num, obj, oneOf, optional, strMax, tagged, tuple, type Infer } from './schema.js';
import {
  groupSummarySchema,
  JOB_STATUSES,
  jobSchema,
  MAX_COMMAND_LENGTH,
  MAX_JOB_NAME_LENGTH,
  MAX_PATH_LENGTH,
  NOTIFY_WHEN,
  SHOWN_STATUSES,
} from './job.js';
import { selectorSchema } from './selector.js';
import { clusterStatusSchema } from './cluster.js';
import { settingsSchema } from './settings.js';
import { ERROR_CODES } from './error-codes.js';
import { HISTORY_PAGE, MAX_RECORD_TEXT, historyQuerySchema } from './history.js';

const id = int;

/** How each job runs, as `sub` and a bulk submission's template both give it (see JobSpec). */
const runOptions = {
  /** `-t`: the time limit in seconds; 0: none (`-t none`); absent: the defaultTime setting. */
  time: optional(int),
  /** `--name`, `--out`, `--err`. */
  name: optional(strMax(MAX_JOB_NAME_LENGTH)),
  out: optional(strMax(MAX_PATH_LENGTH)),
  err: optional(strMax(MAX_PATH_LENGTH)),
  /** `--notify WHEN`. */
  notify: optional(oneOf(NOTIFY_WHEN)),
  /** `-g N`: GPUs per job (absent: none). */
  gpus: optional(int),
};
/** Longest note entry one `qpy notes ID text…` may add. */
/** Most bytes of output one `output` reply carries. */
export const OUTPUT_CHUNK = 256 * 1024;

export const MAX_NOTE_LENGTH = 64 * 1024;

export const submitSchema = obj({
  type: literal('submit'),
  id,
  command: strMax(MAX_COMMAND_LENGTH),
  cwd: strMax(MAX_PATH_LENGTH),
  cores: int,
  memGB: num,
  attrs: nullable(strMax(4096)),
  /** `--after IDs` / `--afterok IDs` (see JobSpec). */
  after: optional(arrayOf(tuple(int, int), 10_000)),
  afterok: optional(arrayOf(tuple(int, int), 10_000)),
  /** `--retry N`. */
  retries: optional(int),
  /** `--priority N` (higher starts first; absent: 0). */
  priority: optional(int),
  ...runOptions,
  /** -c (true) or -o (false); absent: the copyScripts setting. */
  copyScript: optional(bool),
  /** The script the command's first word names (absolute path), and where that word ends in `command`. */
  script: optional(obj({ path: strMax(MAX_PATH_LENGTH), wordEnd: int })),
});
export type SubmitRequest = Infer<typeof submitSchema>;

/** What every job of a bulk submission shares. */
export const templateSchema = obj({
  cwd: strMax(MAX_PATH_LENGTH),
  cores: int,
  memGB: num,
  attrs: nullable(strMax(4096)),
  priority: optional(int),
  retries: optional(int),
  after: optional(arrayOf(tuple(int, int), 10_000)),
  afterok: optional(arrayOf(tuple(int, int), 10_000)),
  ...runOptions,
});
export type Template = Infer<typeof templateSchema>;

/** Past this many matching jobs, a plain `qpy check` sums up arrays and loads (one line each), as `--groups` does; `--all` lists them all. */
export const CHECK_LIMIT = 10_000;

/** Most commands one bulk request carries (a big load comes in several, committed together). */
export const MAX_BULK_COMMANDS = 100_000;
/** Bytes of commands a client puts in one bulk request, well under the daemon's frame limit. */
export const MAX_REQUEST_BYTES_HINT = 512 * 1024;

export const cliToMasterSchema = tagged({
  submit: submitSchema,
  /**
   * Many jobs in one transaction. An array: one command and `indices`
   * (QPY_ARRAY_INDEX of each job), at most `cap` running at once. A load: one
   * command per job, sent in parts: each part but the last is staged (`stage`
   * comes back, to send with the next), and the last commits them all.
   */
  submitMany: obj({
    type: literal('submitMany'),
    id,
    template: templateSchema,
    kind: oneOf(['array', 'load'] as const),
    commands: arrayOf(strMax(MAX_COMMAND_LENGTH), MAX_BULK_COMMANDS),
    indices: nullable(tuple(int, int)),
    cap: nullable(int),
    stage: nullable(int),
    last: bool,
  }),
  /**
   * `groups`: arrays and loads summed up, one entry each, instead of listed job by job; `all`: every job
   * listed, however many (else past CHECK_LIMIT matching jobs arrays and loads are summed up). The reply
   * holds the first page; `checkMore` with its `more` cursor reads the next.
   */
  check: obj({ type: literal('check'), id, selector: selectorSchema, groups: optional(bool), all: optional(bool) }),
  /** The next page of a check listing (the `more` cursor of the previous page). */
  checkMore: obj({ type: literal('checkMore'), id, cursor: int }),
  kill: obj({ type: literal('kill'), id, selector: selectorSchema }),
  clean: obj({ type: literal('clean'), id, selector: selectorSchema }),
  status: obj({ type: literal('status'), id }),
  finish: obj({ type: literal('finish'), id }),
  /** Stop starting queued jobs (paused) or start again; kept across restarts. */
  pause: obj({ type: literal('pause'), id, paused: bool }),
  /** The IDs of the jobs with these statuses (all if null), for tab completion. */
  jobIds: obj({ type: literal('jobIds'), id, statuses: nullable(arrayOf(oneOf(JOB_STATUSES), 16)) }),
  /** No key: show the settings; a key: set it to `values` (none: restore, unset or refuse, see master/settings.ts). */
  config: obj({ type: literal('config'), id, key: nullable(strMax(64)), values: arrayOf(strMax(4096), 100) }),
  /** No jobId: which jobs have notes; jobId: that job's notes; jobId and text: append `text` (a whole entry) to them. */
  notes: obj({ type: literal('notes'), id, jobId: nullable(int), text: nullable(strMax(MAX_NOTE_LENGTH)) }),
  /** Reply once every job these ranges name (all jobs if `all`) is final; the reply lists how they ended. */
  wait: obj({ type: literal('wait'), id, ranges: arrayOf(tuple(int, int), 100_000), all: bool }),
  /** Up to OUTPUT_CHUNK bytes of a running job's output from `offset`, read on its node (`qpy follow`). */
  output: obj({ type: literal('output'), id, jobId: int, offset: int }),
  /** Why a queued job has not started, in one or two sentences. */
  why: obj({ type: literal('why'), id, jobId: int }),
  /** Queue finished jobs again under their IDs: failed and node_failed ones (`qpy retry`), or any (`any`: `qpy rerun --force`). */
  requeue: obj({ type: literal('requeue'), id, ranges: arrayOf(tuple(int, int), 100_000), failed: bool, any: bool }),
  /** Hold (true) or release (false) these queued jobs. */
  hold: obj({ type: literal('hold'), id, ranges: arrayOf(tuple(int, int), 100_000), held: bool }),
  /** Move queued jobs (the queue must be paused): to the head (target 0), the tail (−1), or right after job `target`. */
  jump: obj({ type: literal('jump'), id, ranges: arrayOf(tuple(int, int), 100_000), target: int }),
  /** A page of history (`qpy history`): the records the query matches, after its `after` position. */
  history: obj({ type: literal('history'), id, query: historyQuerySchema }),
  /** `qpy web`: serve this user's page (started on the first ask) and mint a one-time token to open it with. */
  web: obj({ type: literal('web'), id }),
});
export type CliToMaster = Infer<typeof cliToMasterSchema>;
export type CliRequestType = CliToMaster['type'];

export const errorReplySchema = obj({
  type: literal('error'),
  id: nullable(int),
  code: oneOf(ERROR_CODES),
  message: strMax(8192),
  hint: optional(strMax(8192)),
});
export type ErrorReply = Infer<typeof errorReplySchema>;

export const masterToCliSchema = tagged({
  submitted: obj({ type: literal('submitted'), id, jobId: int }),
  /** A bulk submission: committed jobs `first`–`last` (when `last` was sent), or the stage to send the next part with. */
  submittedMany: obj({ type: literal('submittedMany'), id, first: nullable(int), last: nullable(int), stage: nullable(int), staged: int }),
  /** `notes`: [jobId, text] of the listed jobs that have notes (for %K). */
  /** `notice`: a line for the user about the listed queued jobs (they cannot start: this user is not allowed), if any. */
  /**
   * One page of a check listing. `more`: the cursor to read the next page with (`checkMore`), absent on the
   * last. On the first page only: `groups` (arrays and loads summed up), `summed` (they were because more
   * than CHECK_LIMIT jobs matched a plain check), `matched` (how many jobs matched).
   */
  jobs: obj({
    type: literal('jobs'),
    id,
    jobs: arrayOf(jobSchema, 100_000),
    groups: optional(arrayOf(groupSummarySchema, 10_000_000)),
    paused: bool,
    notes: arrayOf(tuple(int, strMax(1024 * 1024)), 100_000),
    settings: settingsSchema,
    notice: optional(strMax(16 * 1024)),
    more: optional(int),
    summed: optional(bool),
    matched: optional(int),
  }),
  /** The settings after a `config` request, with the sentence answering a change (null when only shown). */
  settings: obj({ type: literal('settings'), id, settings: settingsSchema, paused: bool, message: nullable(strMax(4096)) }),
  /** How many queued jobs were removed from the queue (they are undone), and the running jobs being killed. */
  killed: obj({ type: literal('killed'), id, unqueued: int, killing: arrayOf(int, 10_000_000) }),
  /** How many finished jobs were removed. */
  cleaned: obj({ type: literal('cleaned'), id, count: int }),
  status: obj({ type: literal('status'), id, status: clusterStatusSchema, user: strMax(256) }),
  finishing: obj({ type: literal('finishing'), id, pid: int, running: int }),
  ids: obj({ type: literal('ids'), id, ids: arrayOf(int, 100_000_000) }),
  /** The jobs waited for, by final status (IDs). */
  waited: obj({ type: literal('waited'), id, done: arrayOf(int, 100_000_000), other: arrayOf(tuple(int, strMax(32)), 100_000_000) }),
  /** Jobs with notes (`ids`, ascending), and the notes of the job asked for (`text`, null if none). */
  notes: obj({ type: literal('notes'), id, ids: arrayOf(int, 10_000_000), text: nullable(strMax(1024 * 1024)) }),
  /**
   * Part of a job's output: `data` (base64) when `read` (the job runs and its
   * node answered); otherwise the file is to be read where the job's
   * directory is shared. `status`: the job's, when asked.
   */
  output: obj({ type: literal('output'), id, status: oneOf(JOB_STATUSES), read: bool, data: strMax(2 * OUTPUT_CHUNK) }),
  /**
   * A page of history, oldest end first. `records`: each a Job as JSON text, as stored (the CLI parses and
   * checks each with jobSchema, so one it cannot read is left out alone). `spans`: [index in `records`,
   * last ID] of each record that stands for a run of IDs (compact members unqueued together). `more`: the
   * position to ask for the next page with (`after`), absent on the last; a page may hold fewer records
   * than HISTORY_PAGE (even none) and still have more.
   */
  history: obj({
    type: literal('history'),
    id,
    records: arrayOf(strMax(MAX_RECORD_TEXT), HISTORY_PAGE),
    spans: arrayOf(tuple(int, int), HISTORY_PAGE),
    settings: settingsSchema,
    more: optional(tuple(num, int)),
  }),
  /** The user's page: on 127.0.0.1 at `port`, opened once with `token` (`/?token=`). */
  web: obj({ type: literal('web'), id, port: int, token: strMax(256) }),
  /** A reply that is one sentence for the user. */
  text: obj({ type: literal('text'), id, text: strMax(64 * 1024) }),
  error: errorReplySchema,
});
export type MasterToCli = Infer<typeof masterToCliSchema>;

/** The reply type that answers each request type. */
export interface ReplyFor {
  submit: Extract<MasterToCli, { type: 'submitted' }>;
  submitMany: Extract<MasterToCli, { type: 'submittedMany' }>;
  check: Extract<MasterToCli, { type: 'jobs' }>;
  checkMore: Extract<MasterToCli, { type: 'jobs' }>;
  kill: Extract<MasterToCli, { type: 'killed' }>;
  clean: Extract<MasterToCli, { type: 'cleaned' }>;
  status: Extract<MasterToCli, { type: 'status' }>;
  finish: Extract<MasterToCli, { type: 'finishing' }>;
  pause: Extract<MasterToCli, { type: 'text' }>;
  notes: Extract<MasterToCli, { type: 'notes' }>;
  config: Extract<MasterToCli, { type: 'settings' }>;
  jobIds: Extract<MasterToCli, { type: 'ids' }>;
  hold: Extract<MasterToCli, { type: 'text' }>;
  wait: Extract<MasterToCli, { type: 'waited' }>;
  requeue: Extract<MasterToCli, { type: 'text' }>;
  why: Extract<MasterToCli, { type: 'text' }>;
  output: Extract<MasterToCli, { type: 'output' }>;
  jump: Extract<MasterToCli, { type: 'text' }>;
  history: Extract<MasterToCli, { type: 'history' }>;
  web: Extract<MasterToCli, { type: 'web' }>;
}

/** `check`'s status words: every status it shows. */
export const CHECK_WORDS = SHOWN_STATUSES;
export const KILL_WORDS = ['queue', 'running', 'all'] as const;
export const CLEAN_WORDS = ['done', 'failed', 'killed', 'timeout', 'out_of_memory', 'undone', 'node_failed', 'all'] as const;
