/**
 * The POSIX sh wrapper that runs each job on a node whose agent is `sh` (or
 * a bash older than 4.4; with bash 4.4+ the agent itself waits for its jobs,
 * agent-waiter.ts), the job tag, and the helpers that build the arguments
 * every launch carries.
 *
 * Invocation: `sh -c WRAPPER qpy-job RUN KEY ID WD CMD OUT ERR [NAME=VALUE…]`
 *   RUN  absolute run directory (the master uses `$QPY_DIR/run`)
 *   KEY  run-file prefix for this launch attempt (`<id>` or `<id>.a<n>`, see run-files.ts)
 *   ID   job id (for `ps`: the wrapper does not use it)
 *   WD   absolute job directory
 *   CMD  the command line, run by `eval` in a subshell of the wrapper
 *   OUT  its standard output file, relative to WD or absolute (`job_<ID>.out` by default)
 *   ERR  its standard error file, likewise; empty: into OUT's
 *
 * Steps, all with shell builtins only (dash has no builtin mkdir or mv, and an
 * external process costs ~1 ms of CPU per job, which the 400 jobs/s target
 * cannot afford). The wrapper's own variables are named `_qw_*` (env names
 * with that prefix are refused) so exported job variables cannot clobber them.
 * 1. `trap` TERM INT HUP, first thing, in the wrapper only: the handler just
 *    notes the signal, so the wrapper outlives a group TERM long enough to
 *    record the status. Children get default handlers (a trap with a command
 *    is reset in children; an ignored signal would be inherited).
 * 2. Claim the launch: create the run file `RUN/KEY.run` exclusively (`set -C`,
 *    which both dash and bash implement with O_CREAT|O_EXCL, atomic also on
 *    NFSv3+). If it exists, exit 125 without running anything: this is how a
 *    restarted master that finds a launch with no pid prevents a late start
 *    (it creates the file itself, containing `none`).
 *    The claim line is `$$\n`, the wrapper's pid (also its process group id:
 *    the agent starts it in a group of its own), written by one write(2): readers treat a
 *    claim without its final newline as "not written yet". A reused pid is
 *    told apart by the wrapper's own argv (`qpy-job RUN KEY …`, unique per
 *    launch), which the reader checks in /proc/<pid>/cmdline; the wrapper
 *    reads nothing from /proc itself (dash's `read` costs a syscall per byte).
 * 3. Export the NAME=VALUE arguments, cd to WD (failure => `error cwd-…`).
 * 4. If a signal came before the command started, record it as the status
 *    (128+N) without running the command. (A signal in the microseconds
 *    between this check and the command's exec is absorbed; kill()'s KILL
 *    fallback covers that.)
 * 5. Open stdin </dev/null and stdout/stderr truncated into OUT / ERR
 *    (stderr into OUT's when ERR is empty), for good (failure => `error
 *    output`: a directory of theirs missing, say), then run
 *    `eval "(trap - TERM INT HUP; set --; exec 3>&-; $CMD⏎⏎)"` in the
 *    foreground; the wrapper's stderr goes back to /dev/null after it.
 * 6. When the command ran, append what `times` prints to `RUN/KEY.run`: two
 *    lines, the wrapper's own user and system time, then its children's
 *    (the command's, with every descendant it waited for), as `1m2.345s
 *    0m0.010s`; and read the second back (builtins only: no fork).
 *    Then append the status line: `exit <status>\n` (or `error <reason>\n`),
 *    one write(2), complete only with its final newline (appending creates
 *    no inode: see run-files.ts).
 * 7. Notify: write `E KEY STATUS\n` to descriptor 3 if it is open (one
 *    write(2) to a pipe, so atomic), with the children's times after the
 *    status when it has them (`E KEY STATUS 0m1.500s 0m0.004s`), then exit
 *    with the status. Every exit path notifies, the blocked claim (125)
 *    included. Descriptor 3 is the agent's stdout, read by the master; the
 *    run file stays the record. (No peak memory: nothing samples here.)
 *
 * Limits that must hold while no master is there belong to the waiting agent
 * (agent-script.ts); on a node with sh alone they would need a watchdog here.
 *
 * Exit-status convention: sh reports a command killed by signal N as 128+N,
 * so a status 128+N where N is a known signal is reported as that signal.
 * LIMITATION: a command that runs `exit 137` is indistinguishable from one
 * killed by SIGKILL (POSIX sh offers no way to tell them apart).
 */
import type { Usage } from '../protocol/job.js';
import { isEndLimit, type EndLimit } from '../protocol/usage.js';

/** The wrapper script, one complete command per line. */
const LINES = [
  '_qw_sig=; trap "_qw_sig=143" TERM; trap "_qw_sig=130" INT; trap "_qw_sig=129" HUP',
  '_qw_f=$1/$2.run; _qw_k=$2; _qw_wd=$4; _qw_cmd=$5; _qw_so=$6; _qw_se=$7; shift 7',
  // The last act of every path: append the status line (when the claim is ours), notify fd 3, exit.
  // SIGPIPE is ignored only now, so a notifier that has gone away cannot kill the wrapper early.
  // $3: the children's times, when the command ran.
  `_qw_end() { [ -n "$2" ] && printf '%s\\n' "$2" >>"$_qw_f"; trap "" PIPE; printf 'E %s %s%s\\n' "$_qw_k" "$1" "\${3:+ $3}" >&3; exit "$1"; }`,
  // The wrapper's own messages go nowhere, once for all: a redirection on each command would cost a
  // save and a restore of the descriptor (four system calls) every time.
  'exec 2>/dev/null; set -C; echo $$ >"$_qw_f" || _qw_end 125; set +C',
  'for _qw_a do export "$_qw_a"; done',
  'cd "$_qw_wd" || { _qw_e=cwd-missing; [ -e "$_qw_wd" ] && _qw_e=cwd-notdir; [ -d "$_qw_wd" ] && _qw_e=cwd-denied; _qw_end 126 "error $_qw_e"; }',
  '[ -n "$_qw_sig" ] && _qw_end "$_qw_sig" "exit $_qw_sig"',
  // The output files are opened for good (`command` keeps a failed `exec` from ending the shell), not
  // around the command, which would save and restore three descriptors.
  'if [ -n "$_qw_se" ]; then command exec </dev/null >"$_qw_so" 2>"$_qw_se"; else command exec </dev/null >"$_qw_so" 2>&1; fi || { exec >/dev/null 2>&1; _qw_end 126 "error output"; }',
  // The signal is checked again once the output files are open (opening them can take a while): a TERM
  // that arrived meanwhile must stop the command from starting, not be swallowed by the trap.
  // The command runs in a subshell (a fork, no exec of a new sh), with the wrapper's traps, arguments and
  // notification descriptor cleared. The subshell is written INSIDE the eval'd text, so the shell sees
  // the command as the subshell's last command and execs a simple command in place: one fork per job
  // fewer than `(…; eval "$_qw_cmd")`. The blank line before `)` ends a trailing comment or backslash.
  // After the command, its CPU time: `times` into the run file (the claim, then the wrapper's own line,
  // then its children's), read back.
  '_qw_t=; if [ -n "$_qw_sig" ]; then _qw_rc=$_qw_sig; else eval "(trap - TERM INT HUP; set --; exec 3>&-; $_qw_cmd\n\n)"; _qw_rc=$?; ' +
    'times >>"$_qw_f" && { read -r _qw_t; read -r _qw_t; read -r _qw_t; } <"$_qw_f"; fi',
  // A message of the wrapper's (a notifier gone) must not land in the job's error file.
  'exec 2>/dev/null',
  '_qw_end "$_qw_rc" "exit $_qw_rc" "$_qw_t"',
];

/**
 * The tag every launch carries as its last `NAME=VALUE` argument (so also in
 * the job's environment): `QPY_TAG=USER:JOB:ATTEMPT`. Nothing secret: any
 * account may read it in `ps` or /proc/PID/cmdline (a wrapper's, or the
 * agent's marker's, agent-waiter.ts), and that is the point: qpy-multiuser's
 * probe, running as the admin, lists the live tags on each node
 * (node-probe.ts) to give back the cores of a dead master's jobs that have
 * ended, and to tell qpy's own busy processes from outsiders. User names
 * never contain `:` (see allocator/users-file.ts).
 */
export const TAG_VAR = 'QPY_TAG';

/** The tag of one run of a job (see TAG_VAR). */
export function jobTag(user: string, jobId: number, attempt: number): string {
  return `${user}:${jobId}:${attempt}`;
}

/** A tag read back from a node, or null when it is not one of ours. */
export function parseJobTag(text: string): { user: string; jobId: number; attempt: number } | null {
  const m = /^([A-Za-z0-9_][A-Za-z0-9_.-]*):([0-9]{1,15}):([0-9]{1,9})$/.exec(text);
  return m ? { user: m[1]!, jobId: Number(m[2]), attempt: Number(m[3]) } : null;
}

/** The wrapper source, for `sh -c WRAPPER qpy-job …`. */
export const WRAPPER = LINES.join('\n');
/** `$0` of the wrapper; makes jobs easy to spot in `ps`. */
export const WRAPPER_NAME = 'qpy-job';
/** Wrapper exit status when the claim already existed (the launch was blocked). */
export const CLAIM_FAILED_STATUS = 125;

/** A run key (`<id>` or `<id>.a<n>`, see run-files.ts), as a regular-expression source. */
export const RUN_KEY = '[0-9]+(?:\\.a[0-9]+)?';
const RUN_KEY_ONLY = new RegExp(`^${RUN_KEY}$`);
/** `times` figures (`1m2.345s`), as a regular-expression source: minutes, seconds, fraction. */
export const TIMES_FIGURE = '([0-9]+)m([0-9]+)(?:\\.([0-9]+))?s';
const END_NOTICE = new RegExp(
  `^E (${RUN_KEY}) (\\d+)(?: (time|memory|cgroup|oom))?(?: (\\d+) (\\d+)(?: (\\d+))?| ${TIMES_FIGURE} ${TIMES_FIGURE})?$`,
);

/** Is `key` a well-formed run key? */
export const isRunKey = (key: string): boolean => RUN_KEY_ONLY.test(key);

/** A job's end as its `E` line tells it. */
export interface EndNotice {
  key: string;
  status: number;
  limit?: EndLimit;
  usage?: Usage;
}

/** Milliseconds of one `times` figure (minutes, seconds, fraction as matched by TIMES_FIGURE). */
export function timesMs(min: string, sec: string, frac = ''): number {
  return Number(min) * 60_000 + Number(sec) * 1000 + Number(`${frac}000`.slice(0, 3));
}

/**
 * An end notice, parsed; null for any other line: `E KEY STATUS`, from a
 * wrapper's step 7 (which adds its children's `times` figures) or a waiting
 * agent (which adds ` time` or ` memory` for a job one of its limits ended,
 * then `USER_MS SYS_MS [PEAK_KB]`, agent-waiter.ts).
 */
export function parseEndNotice(line: string): EndNotice | null {
  const m = END_NOTICE.exec(line);
  if (!m) return null;
  const notice: EndNotice = { key: m[1]!, status: Number(m[2]) };
  if (isEndLimit(m[3])) notice.limit = m[3];
  if (m[4] !== undefined) {
    notice.usage = { userMs: Number(m[4]), sysMs: Number(m[5]) };
    if (m[6] !== undefined) notice.usage.peakKB = Number(m[6]);
  } else if (m[7] !== undefined) notice.usage = { userMs: timesMs(m[7], m[8]!, m[9]), sysMs: timesMs(m[10]!, m[11]!, m[12]) };
  return notice;
}

/** Inputs of one wrapper run. */
export interface WrapperInput {
  runDir: string;
  key: string;
  jobId: number;
  cwd: string;
  command: string;
  /** Output files, relative to `cwd` or absolute (default `job_<ID>.out`, `job_<ID>.err`; the same: one file). */
  out?: string | undefined;
  err?: string | undefined;
  env: Record<string, string>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The positional arguments after `qpy-job` (validated: absolute paths, shell names, no NUL). */
export function wrapperArgs(input: WrapperInput): string[] {
  const { runDir, key, jobId, cwd, command, env } = input;
  const out = input.out ?? `job_${jobId}.out`;
  const err = input.err ?? `job_${jobId}.err`;
  if (!Number.isSafeInteger(jobId) || jobId < 0) throw new Error(`invalid job id ${jobId}`);
  if (!isRunKey(key)) throw new Error(`invalid run key ${JSON.stringify(key)}`);
  if (!runDir.startsWith('/')) throw new Error(`run directory must be absolute: ${runDir}`);
  if (!cwd.startsWith('/')) throw new Error(`job directory must be absolute: ${cwd}`);
  if (out === '' || err === '') throw new Error('output file names must not be empty');
  const args = [runDir, key, String(jobId), cwd, command, out, err === out ? '' : err];
  // The tag last, wherever the caller put it: a waiting agent takes the last word for its marker (agent-waiter.ts).
  const vars = Object.entries(env).sort(([a], [b]) => Number(a === TAG_VAR) - Number(b === TAG_VAR));
  for (const [name, value] of vars) {
    if (!ENV_NAME.test(name) || name.startsWith('_qw_')) throw new Error(`invalid environment variable name ${JSON.stringify(name)}`);
    args.push(`${name}=${value}`);
  }
  for (const a of args) if (a.includes('\0')) throw new Error('arguments must not contain NUL characters');
  return args;
}

/** The full argv for a local spawn: `spawn('/bin/sh', wrapperArgv(input))`. */
export function wrapperArgv(input: WrapperInput): string[] {
  return ['-c', WRAPPER, WRAPPER_NAME, ...wrapperArgs(input)];
}

/** Single-quote one word for a POSIX shell (also correct for csh-family shells). */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
