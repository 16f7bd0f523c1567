/**
 * The node agent: one long-lived shell per (master, node), the same on every
 * node: on this machine a child process of the master (local.ts), on an SSH
 * node one exec channel (ssh.ts). It reads requests on stdin and answers on
 * stdout. Pure text here: the init script, the request lines, the framing,
 * and the parser of what comes back. Nothing is installed on the node; the
 * agent uses shell builtins (plus ps and awk for group checks, rm for
 * forgetting, tr and setsid where bash is missing), present on any Linux.
 *
 * Lines on the agent's stdout (each written by one write(2), so the lines of
 * wrappers and of the agent never interleave):
 *   R <agent pid> <block|line> <cgroup|proc|none>
 *                                 ready (after init); `block`: requests may come framed (see frameRequests);
 *                                 `proc`: it keeps limits and measures usage from /proc, `cgroup`: the same,
 *                                 and the kernel keeps memory limits (agent-cgroup.ts), `none`: it cannot
 *   X <reason>                    init failed (then the agent exits)
 *   S <tag> <pid> <key>           a job was started (pid = its process group) under run key <key>
 *   E <key> <status> [<limit>] [<usage>]  a job ended (told by the agent that waits for it, or by its
 *                                 wrapper), with what it used when measured (parseEndNotice)
 *   F <tag> <key> <content>       a run file, newlines as `|`
 *   L <tag> <key> <0|1|2> [<st>]  a key's job: 0 gone (with its wait status if this agent reaped it), 1 alive
 *                                 and its own, 2 a live process that is not it
 *   A <tag> <0|1>                 answer of group / block / kill / remove
 *   D <tag>                       end of a multi-line answer
 *
 * Two ways to run a job. Where the node has bash 4.4 or later, the agent is
 * the waiter of its jobs (agent-waiter.ts): one fork and one exec per job,
 * and it outlives the master until its last job has ended, recording each
 * end in the job's run file. Elsewhere (sh, an older bash) each job has a
 * wrapper process (wrapper.ts) that records its own end, and the agent exits
 * at end of input. Either way the agent keeps no state a master needs: a
 * job's record is its run file (run-files.ts), so an agent may be started
 * again at any time, and the master may be away for hours.
 * Limits and usage are the waiter agent's (agent-waiter.ts): it is there as
 * long as any of its jobs runs, with or without a master; its request loop,
 * which wakes at least every 0.1 s while jobs run, checks the limits, and
 * once a second samples every job from /proc.
 */
import type { LimitsMethod } from '../protocol/cluster.js';
import { isRunKey, parseEndNotice, RUN_KEY, shellQuote, WRAPPER, WRAPPER_NAME, type EndNotice } from './wrapper.js';
import { FRAME_HEADER, WAITER } from './agent-waiter.js';
import { directArgv } from './direct-exec.js';

/**
 * Which shell runs the agent. `bash` (when the node has it) puts each wrapper
 * in a process group of its own through job control (`set -m`), which costs
 * nothing; a POSIX `sh` needs an exec of `setsid` per job (about 20 % of the
 * node's CPU per job on the 2-core test machine: 600 → 730 jobs/s measured
 * for the agent alone). `auto` takes bash when present.
 */
export type AgentShell = 'auto' | 'sh';

/** The word every agent carries in its command line (`ps`), by which qpy-multiuser's probe knows it (node-probe.ts). */
export const AGENT_NAME = 'qpy-agent';

/**
 * What starts a bash agent in a cgroup v2 subtree of its own, where its
 * memory limits can be kept by the kernel (agent-cgroup.ts): a transient
 * scope of the user's systemd manager, with the cgroup delegated to it. Only
 * where the user lingers (`loginctl enable-linger`): a manager that ends
 * with the user's last session would take the scope, and the jobs in it,
 * along. Tried once with `true` first (a manager may be missing or refuse).
 */
const SCOPE = 'systemd-run --user --scope -q -p Delegate=yes --collect';
const IN_SCOPE =
  `_s=; if [ -e "/var/lib/systemd/linger/\${USER:-$(id -un)}" ] && command -v systemd-run >/dev/null 2>&1 && ` +
  `${SCOPE} true >/dev/null 2>&1 </dev/null; then _s="${SCOPE}"; fi`;

/**
 * Bash keeps the statuses of exited children in a table of as many entries
 * as the process limit it finds at its start (up to 32768: 512 kB, every page
 * written), and each job's fork copies the table's page table entries and its
 * exec tears them down again: about 20 µs a job. So bash starts under a soft
 * `ulimit -u` (dash: `-p`) of CHILD_TABLE (a table of 128 kB, far more
 * statuses than an agent ever leaves unwaited for: it waits for each job
 * within a sweep), and the agent's first line gives the limit back (`_q_np`),
 * before any fork.
 */
const CHILD_TABLE = 8192;
const SMALL_TABLE =
  `_q_f=-u; _q_np=$(ulimit -S -u 2>/dev/null) || { _q_f=-p; _q_np=$(ulimit -S -p 2>/dev/null); }; ` +
  `if [ "$_q_np" = unlimited ] || [ "$_q_np" -gt ${CHILD_TABLE} ] 2>/dev/null; then ulimit -S $_q_f ${CHILD_TABLE} && export _q_np; fi`;

/**
 * The agent's command line (for `sh -c`, or what an SSH channel executes:
 * the login shell, maybe csh, only runs `exec sh -c '…'`); the shell it
 * starts then reads its script on stdin.
 */
export function agentCommandLine(shell: AgentShell): string {
  if (shell === 'sh') return `exec sh -s ${AGENT_NAME}`;
  return `exec sh -c '${IN_SCOPE}; if command -v bash >/dev/null 2>&1; then ${SMALL_TABLE}; exec $_s bash --norc --noprofile -s ${AGENT_NAME}; fi; exec sh -s ${AGENT_NAME}'`;
}

/** Functions every agent defines; `$RUN` is the run directory on the node. */
const FUNCTIONS = [
  // A run file (at most five lines: claim, error, usage or two of times, exit) on one line, newlines as |,
  // read with builtins and printed with one write.
  `_q_f() { [ -e "$RUN/$2.run" ] || return 0; _c=; _fn=0; { while [ $_fn -lt 5 ]; do _l=; if read -r _l; then _c="$_c$_l|"; _fn=$((_fn+1)); else _c="$_c$_l"; break; fi; done; } <"$RUN/$2.run" 2>/dev/null; printf 'F %s %s %s\\n' "$1" "$2" "$_c"; }`,
  // Every attempt's run file of job $2 (keys <id>, <id>.a1, …), then D.
  `_q_runs() { _k=$2; _n=0; while [ -e "$RUN/$_k.run" ]; do _q_f "$1" "$_k"; _n=$((_n+1)); _k=$2.a$_n; done; echo "D $1"; }`,
  // The state letter of process $1 in _st (builtins only); false if there is no such process.
  `_q_state() { _st=; [ -r "/proc/$1/stat" ] || return 1; read -r _s <"/proc/$1/stat" 2>/dev/null || return 1; _s=\${_s##*") "}; _st=\${_s%% *}; [ -n "$_st" ]; }`,
  // Is process $3 alive (not a zombie) and the wrapper of key $2? L line.
  // Gone: with its wait status when it was this agent's child (bash), so a wrapper SIGKILLed shows as such.
  `_q_live() { _v=0; _w=; if _q_state "$3"; then case $_st in Z|X) ;; *) if _q_ident "$3" "$2"; then _v=1; else _v=2; fi;; esac; fi; [ $_v != 0 ] || [ "$3" = 0 ] || _q_status "$3"; echo "L $1 $2 $_v\${_w:+ $_w}"; }`,
  // For each (key, pid): its wrapper's liveness, THEN its run file (a wrapper writes its status before it
  // exits, so a wrapper seen gone whose file has no status died without writing one); then D.
  `_q_check() { _t=$1; shift; while [ $# -gt 1 ]; do _q_live "$_t" "$1" "$2"; _q_f "$_t" "$1"; shift 2; done; echo "D $_t"; }`,
  // Does process group $2 have a live (non-zombie) member? No group at all is answered without a fork.
  `_q_group() { if ! kill -s 0 -- "-$2" 2>/dev/null; then echo "A $1 0"; elif command -v ps >/dev/null 2>&1; then ps -e -o pgid= -o stat= 2>/dev/null | awk -v g="$2" -v t="$1" '$1==g && $2 !~ /^Z/ {f=1} END {print "A " t " " (f?1:0)}'; else echo "A $1 1"; fi; }`,
  // Signal process group $3 with $2.
  `_q_kill() { if kill -s "$2" -- "-$3" 2>/dev/null; then echo "A $1 1"; else echo "A $1 0"; fi; }`,
  // Create run file $2 exclusively with "none": blocks a launch for good.
  `_q_block() { if (set -C; echo none >"$RUN/$2.run") 2>/dev/null; then echo "A $1 1"; else echo "A $1 0"; fi; }`,
  // Start job $2's wrapper under its next free run key, detached in a process group of its own (old
  // bash: job control; sh: through setsid, which also gives it a session of its own); the rest are the
  // wrapper's arguments after RUN and KEY, the argv for a direct exec and the limits (neither used
  // here: a wrapper node keeps no limits) left out. Its
  // descriptor 3 is this agent's stdout: its E line. (Bash 4.4+ replaces this, agent-waiter.ts.)
  `_q_launch() { _t=$1; _n=$2; shift 2; _i=$1; while :; do if [ "$_n" = 0 ]; then _k=$_i; else _k=$_i.a$_n; fi; [ -e "$RUN/$_k.run" ] || break; _n=$((_n+1)); done; _wd=$2; _c=$3; _o=$6; _e=$7; shift 7; $_QL /bin/sh -c "$W" ${WRAPPER_NAME} "$RUN" "$_k" "$_i" "$_wd" "$_c" "$_o" "$_e" "$@" 3>&1 >/dev/null 2>&1 </dev/null & _q_forget $! "$_k"; echo "S $_t $! $_k"; }`,
  // Remove every run file of the given jobs, with one rm for all.
  `_q_rm() { _t=$1; shift; _l=; for _i do _n=0; _k=$_i; while [ -e "$RUN/$_k.run" ]; do _l="$_l $_k"; _n=$((_n+1)); _k=$_i.a$_n; done; done; set --; for _k in $_l; do set -- "$@" "$RUN/$_k.run"; done; [ $# -eq 0 ] || rm -f -- "$@"; echo "A $_t 1"; }`,
];

/** The frame reader: a frame of $1 bytes read and run (`prefix`: an assignment for the read). */
const frameReader = (prefix: string) =>
  `_q_b() { while read -r -u $_q_nul _q_s; do :; done; ${prefix}read -r -N "$1" _q_s && eval "$_q_s"; }`;

/**
 * Bash 4.4 or later (the agent's shell wherever bash is installed) also:
 * - reads framed requests: bash reads a script from a pipe ONE BYTE per
 *   read(2) (it must not take input meant for a command), about 0.1 ms per
 *   launch line; `read -N` takes a whole frame in one read;
 * - is the waiter of its jobs, with no wrapper process (agent-waiter.ts).
 * Given to `eval`, so that sh never parses it.
 */
const BASH_ONLY = [
  // Bash's buffer for reads of files may hold what a read of /proc left (agent-waiter.ts, "Reading
  // files"), and `read -N` takes from it before stdin: emptied first, by reading /dev/null (a
  // descriptor kept open for it, closed in every job) to its end.
  'exec {_q_nul}</dev/null',
  // The agent works in the C locale (bytes, as a frame counts them; and a pattern on a /proc line costs
  // a third of what it costs in UTF-8: about 5 % of the agent's CPU per job): LC_ALL set for this
  // shell only, never exported, so every job gets the locale the agent was given. Where LC_ALL is set
  // already it stays, and only the frame is read in C.
  `if [ -z "\${LC_ALL+x}" ]; then LC_ALL=C; ${frameReader('')}; else ${frameReader('LC_ALL=C ')}; fi`,
  WAITER,
].join('\n');

/** Elsewhere: the argv through tr (a fork and an exec); only ever asked about jobs that are polled. */
const POSIX_IDENT = `_q_ident() { case "$(tr '\\000' '\\001' <"/proc/$1/cmdline" 2>/dev/null)" in *"$_x${WRAPPER_NAME}$_x$RUN$_x$2$_x"*) return 0;; esac; return 1; }`;

/** The agent's first input: settings, checks, functions, then `R <pid> <reader>` (and its request loop). */
export function agentInit(runDir: string): string {
  return [
    `[ -z "\${_q_np-}" ] || { ulimit -S -u "$_q_np"; unset _q_np; }`,
    `RUN=${shellQuote(runDir)}`,
    `W=${shellQuote(WRAPPER)}`,
    `_x=$(printf '\\001')`,
    POSIX_IDENT,
    `mkdir -p "$RUN" 2>/dev/null && chmod 700 "$RUN" 2>/dev/null && [ -w "$RUN" ] || { echo "X cannot create the run directory $RUN"; exit 1; }`,
    ...FUNCTIONS,
    // Under bash, job control starts every background job in a group of its own; sh needs setsid.
    // The shell's job table must not keep every job ever started (memory, and a slower launch per job
    // already started: measured 790 → 600 jobs/s over 20,000 jobs): bash 4.4+ waits for each one as it
    // ends (agent-waiter.ts), an older bash disowns each one at once, sh drops finished ones through `jobs`.
    `_QR=line; _q_status() { :; }; if [ -n "\${BASH_VERSION-}" ]; then set -m; _QL=; _q_forget() { disown "$1"; }; if [ "\${BASH_VERSION%%.*}" -gt 4 ] || case $BASH_VERSION in 4.[4-9]*) true;; *) false;; esac; then eval ${shellQuote(BASH_ONLY)}; _QR=block; fi; else _QL=setsid; _q_forget() { jobs >/dev/null; }; command -v setsid >/dev/null 2>&1 || { echo "X setsid is not installed on this node (nor bash)"; exit 1; }; fi`,
    // Limits and usage need the waiter (bash 4.4+) and /proc.
    `_QK=none; [ $_QR = block ] && [ -r /proc/$$/statm ] && { _QK=proc; ! _q_cgi || _QK=cgroup; }`,
    'echo "R $$ $_QR $_QK"; if [ $_QR = block ]; then _q_loop; exit; fi',
    '',
  ].join('\n');
}

/**
 * Requests of one moment as the agent is sent them: as they are to an agent
 * that reads lines, in one frame to one that reads blocks: a header of
 * FRAME_HEADER bytes, `_q_b <bytes>;` (ASCII, so bytes and characters agree
 * in any locale), then the requests (read with LC_ALL=C, so bytes are
 * counted, whatever the node's locale). A fixed header is read with one
 * read(2): a line is read one byte per read(2) from a pipe.
 */
export function frameRequests(requests: string, reader: AgentReader): string {
  if (reader !== 'block') return requests;
  const header = `_q_b ${String(Buffer.byteLength(requests)).padStart(FRAME_HEADER - '_q_b ;'.length)};`;
  if (header.length !== FRAME_HEADER) throw new Error('frame too long');
  return header + requests;
}

/** How an agent keeps time and memory limits and measures usage (its `R` line): from /proc, or not at all. */
export type { LimitsMethod };

/** How an agent reads its requests (its `R` line). */
export type AgentReader = 'block' | 'line';

/**
 * Start a job: `wrapperArgs` are the wrapper's positional arguments
 * (wrapper.ts), whose RUN and KEY the agent replaces with its own and the
 * job's next free key from attempt `minAttempt` on (so a job run again never
 * reuses a key). After the command line go the argv a waiter agent may
 * exec without sh (direct-exec.ts), as quoted words, or nothing, and the
 * limits as `SECONDS:GRACE_MS:KB` (wall time and memory, either may be
 * empty), or nothing; then the output and error files (the wrapper's OUT
 * and ERR) and the job's variables.
 */
export function launchCommand(
  tag: number,
  wrapperArgs: readonly string[],
  minAttempt = 0,
  limits: { timeLimit?: { seconds: number; graceMs: number }; memLimit?: { kb: number; graceMs: number } } = {},
): string {
  if (!Number.isSafeInteger(minAttempt) || minAttempt < 0) throw new Error(`invalid attempt ${minAttempt}`);
  const [id = '', wd = '', command = '', out = '', err = '', ...env] = wrapperArgs.slice(2);
  const argv = directArgv(command);
  const direct = argv ? argv.map(shellQuote).join(' ') : '';
  const { timeLimit, memLimit } = limits;
  const count = (n: number | undefined, min: number) => n === undefined || (Number.isSafeInteger(n) && n >= min);
  const graceMs = timeLimit?.graceMs ?? memLimit?.graceMs ?? 0;
  if (!count(timeLimit?.seconds, 1) || !count(memLimit?.kb, 1) || !count(graceMs, 0)) throw new Error('invalid limits');
  const limit = timeLimit || memLimit ? `${timeLimit?.seconds ?? ''}:${graceMs}:${memLimit?.kb ?? ''}` : '';
  return `_q_launch ${tag} ${minAttempt} ${[id, wd, command, direct, limit, out, err, ...env].map(shellQuote).join(' ')}\n`;
}

const SIGNALS = new Set(['TERM', 'KILL', 'INT', 'HUP', '0']);

function word(w: string | number): string {
  const s = String(w);
  if (!/^[0-9A-Za-z.]+$/.test(s)) throw new Error(`invalid agent argument ${JSON.stringify(s)}`);
  return s;
}

function runKey(key: string): string {
  if (!isRunKey(key)) throw new Error(`invalid run key ${JSON.stringify(key)}`);
  return key;
}

export const agentCommand = {
  runs: (tag: number, jobId: number) => `_q_runs ${tag} ${word(jobId)}\n`,
  /** Liveness then run file of each (key, pid); pid 0 when unknown. */
  check: (tag: number, jobs: readonly { key: string; pid: number }[]) =>
    `_q_check ${tag}${jobs.map((j) => ` ${runKey(j.key)} ${word(j.pid)}`).join('')}\n`,
  group: (tag: number, pgid: number) => `_q_group ${tag} ${word(pgid)}\n`,
  kill: (tag: number, signal: string, pgid: number) => `_q_kill ${tag} ${SIGNALS.has(signal) ? signal : word('!')} ${word(pgid)}\n`,
  block: (tag: number, key: string) => `_q_block ${tag} ${runKey(key)}\n`,
  remove: (tag: number, jobIds: readonly number[]) => `_q_rm ${tag}${jobIds.map((id) => ` ${word(id)}`).join('')}\n`,
};

/** What `L` says of a wrapper. */
export type Liveness = 'gone' | 'alive' | 'other';
const LIVENESS: Liveness[] = ['gone', 'alive', 'other'];

export type AgentLine =
  | { type: 'ready'; pid: number; reader: AgentReader; limits: LimitsMethod }
  | { type: 'failed'; reason: string }
  | { type: 'started'; tag: number; pid: number; key: string }
  | ({ type: 'ended' } & EndNotice)
  | { type: 'file'; tag: number; key: string; content: string }
  | { type: 'live'; tag: number; key: string; state: Liveness; status?: number }
  | { type: 'answer'; tag: number; yes: boolean }
  | { type: 'done'; tag: number };

const STARTED = new RegExp(`^S (\\d+) (\\d+) (${RUN_KEY})$`);
const FILE = new RegExp(`^F (\\d+) (${RUN_KEY}) (.*)$`);
const LIVE = new RegExp(`^L (\\d+) (${RUN_KEY}) ([012])(?: (\\d+))?$`);

/** Parse one line of the agent's stdout; null for anything else. */
export function parseAgentLine(line: string): AgentLine | null {
  let m: RegExpExecArray | null;
  if ((m = /^R (\d+)(?: (block|line))?(?: (cgroup|proc|none))?$/.exec(line)))
    return {
      type: 'ready',
      pid: Number(m[1]),
      reader: m[2] === 'block' ? 'block' : 'line',
      limits: m[3] === 'cgroup' || m[3] === 'proc' ? m[3] : 'none',
    };
  if ((m = /^X (.*)$/.exec(line))) return { type: 'failed', reason: m[1]! };
  if ((m = STARTED.exec(line))) return { type: 'started', tag: Number(m[1]), pid: Number(m[2]), key: m[3]! };
  const notice = parseEndNotice(line);
  if (notice) return { type: 'ended', ...notice };
  if ((m = FILE.exec(line))) return { type: 'file', tag: Number(m[1]), key: m[2]!, content: m[3]!.replace(/\|/g, '\n') };
  if ((m = LIVE.exec(line))) {
    const live: AgentLine = { type: 'live', tag: Number(m[1]), key: m[2]!, state: LIVENESS[Number(m[3])]! };
    return m[4] === undefined ? live : { ...live, status: Number(m[4]) };
  }
  if ((m = /^A (\d+) ([01])$/.exec(line))) return { type: 'answer', tag: Number(m[1]), yes: m[2] === '1' };
  if ((m = /^D (\d+)$/.exec(line))) return { type: 'done', tag: Number(m[1]) };
  return null;
}
