/**
 * The node agent: one shell per (master, node), bash if the node has it,
 * else its POSIX sh, on one long-lived SSH exec channel, reading commands on stdin and answering on
 * stdout. Pure text: the init script, one command line per request, and the
 * parser of what comes back. Nothing is installed on the node; the agent
 * uses shell builtins plus tr, ps, awk, sed (and setsid where bash is
 * missing), present on any Linux.
 *
 * Lines on the agent's stdout (each written by one write(2), so the lines of
 * wrappers and of the agent never interleave):
 *   R <agent pid>                 ready (after init)
 *   X <reason>                    init failed (then the agent exits)
 *   S <tag> <pid> <key>           a wrapper was started (pid = its process group) under run key <key>
 *   E <key> <status>              a wrapper ended (wrapper.ts writes it on descriptor 3)
 *   F <tag> <key> <content>       a run file, newlines as `|`
 *   A <tag> <0|1>                 answer of alive / group / block / kill / remove
 *   D <tag>                       end of a multi-line answer
 */
import { isRunKey, parseEndNotice, RUN_KEY, shellQuote, WRAPPER, WRAPPER_NAME } from './wrapper.js';

/**
 * Which shell runs the agent. `bash` (when the node has it) puts each wrapper
 * in a process group of its own through job control (`set -m`), which costs
 * nothing; a POSIX `sh` needs an exec of `setsid` per job (about 20 % of the
 * node's CPU per job on the 2-core test machine: 600 → 730 jobs/s measured
 * for the agent alone). `auto` takes bash when present.
 */
export type AgentShell = 'auto' | 'sh';

/**
 * The command the SSH channel executes. The login shell (maybe csh) only
 * runs `exec sh -c '…'`; that sh picks the agent's shell, which then reads
 * its script on stdin.
 */
export function agentCommandLine(shell: AgentShell): string {
  if (shell === 'sh') return 'exec sh -s';
  return `exec sh -c 'if command -v bash >/dev/null 2>&1; then exec bash --norc --noprofile -s; fi; exec sh -s'`;
}

/** Functions the agent defines at start; `$RUN` is the run directory on the node. */
const FUNCTIONS = [
  // A run file (at most two lines) on one line, newlines as |, read with builtins and printed with one write.
  `_q_f() { [ -e "$RUN/$2.run" ] || return 0; _c=; _l=; { if read -r _l; then _c="$_l|"; _l=; if read -r _l; then _c="$_c$_l|"; else _c="$_c$_l"; fi; else _c=$_l; fi; } <"$RUN/$2.run" 2>/dev/null; printf 'F %s %s %s\\n' "$1" "$2" "$_c"; }`,
  // Every attempt's run file of job $2 (keys <id>, <id>.a1, …), then D.
  `_q_runs() { _k=$2; _n=0; while [ -e "$RUN/$_k.run" ]; do _q_f "$1" "$_k"; _n=$((_n+1)); _k=$2.a$_n; done; echo "D $1"; }`,
  // The run files of the given keys (those that exist), then D.
  `_q_poll() { _t=$1; shift; for _k do _q_f "$_t" "$_k"; done; echo "D $_t"; }`,
  // Is pid $2 alive (not a zombie) and the wrapper of key $3?
  `_q_alive() { _a=0; if [ -r "/proc/$2/cmdline" ]; then case "$(sed 's/.*) //;s/ .*//' "/proc/$2/stat" 2>/dev/null)" in Z|X|'') ;; *) _x=$(printf '\\001'); case "$(tr '\\000' '\\001' <"/proc/$2/cmdline" 2>/dev/null)" in *"$_x${WRAPPER_NAME}$_x$RUN$_x$3$_x"*) _a=1;; esac;; esac; fi; echo "A $1 $_a"; }`,
  // Does process group $2 have a live (non-zombie) member?
  `_q_group() { if command -v ps >/dev/null 2>&1; then ps -e -o pgid= -o stat= 2>/dev/null | awk -v g="$2" -v t="$1" '$1==g && $2 !~ /^Z/ {f=1} END {print "A " t " " (f?1:0)}'; elif kill -s 0 -- "-$2" 2>/dev/null; then echo "A $1 1"; else echo "A $1 0"; fi; }`,
  // Signal process group $3 with $2.
  `_q_kill() { if kill -s "$2" -- "-$3" 2>/dev/null; then echo "A $1 1"; else echo "A $1 0"; fi; }`,
  // Create run file $2 exclusively with "none": blocks a launch for good.
  `_q_block() { if (set -C; echo none >"$RUN/$2.run") 2>/dev/null; then echo "A $1 1"; else echo "A $1 0"; fi; }`,
  // Start job $2's wrapper under its next free run key, detached in a process group of its own (bash:
  // job control; sh: through setsid, which also gives it a session of its own); the rest are the
  // wrapper's arguments after RUN and KEY.
  `_q_launch() { _t=$1; _n=$2; shift 2; _i=$1; while :; do if [ "$_n" = 0 ]; then _k=$_i; else _k=$_i.a$_n; fi; [ -e "$RUN/$_k.run" ] || break; _n=$((_n+1)); done; $_QL /bin/sh -c "$W" ${WRAPPER_NAME} "$RUN" "$_k" "$@" 3>&1 >/dev/null 2>&1 </dev/null & echo "S $_t $! $_k"; _q_forget $!; }`,
  // Remove every run file of job $2.
  `_q_rm() { rm -f "$RUN/$2.run" "$RUN/$2".a*.run; echo "A $1 1"; }`,
];

/** The agent's first input: settings, checks, functions, then `R <pid>`. */
export function agentInit(runDir: string): string {
  return [
    `RUN=${shellQuote(runDir)}`,
    `W=${shellQuote(WRAPPER)}`,
    // Under bash, job control starts every background job in a group of its own; sh needs setsid.
    // The shell's job table must not keep every job ever started (memory, and a slower launch per job
    // already started: measured 790 → 600 jobs/s over 20,000 jobs): bash disowns each one at once, sh
    // drops finished ones through `jobs`.
    `if [ -n "\${BASH_VERSION-}" ]; then set -m; _QL=; _q_forget() { disown "$1"; }; else _QL=setsid; _q_forget() { jobs >/dev/null; }; command -v setsid >/dev/null 2>&1 || { echo "X setsid is not installed on this node (nor bash)"; exit 1; }; fi`,
    `mkdir -p "$RUN" 2>/dev/null && chmod 700 "$RUN" 2>/dev/null && [ -w "$RUN" ] || { echo "X cannot create the run directory $RUN"; exit 1; }`,
    ...FUNCTIONS,
    'echo "R $$"',
    '',
  ].join('\n');
}

/**
 * Start a wrapper: `wrapperArgs` are its positional arguments (wrapper.ts),
 * whose RUN and KEY the agent replaces with its own and the job's next free
 * key from attempt `minAttempt` on (so a job run again never reuses a key).
 */
export function launchCommand(tag: number, wrapperArgs: readonly string[], minAttempt = 0): string {
  if (!Number.isSafeInteger(minAttempt) || minAttempt < 0) throw new Error(`invalid attempt ${minAttempt}`);
  return `_q_launch ${tag} ${minAttempt} ${wrapperArgs.slice(2).map(shellQuote).join(' ')}\n`;
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
  poll: (tag: number, keys: readonly string[]) => `_q_poll ${tag} ${keys.map(runKey).join(' ')}\n`,
  alive: (tag: number, pid: number, key: string) => `_q_alive ${tag} ${word(pid)} ${runKey(key)}\n`,
  group: (tag: number, pgid: number) => `_q_group ${tag} ${word(pgid)}\n`,
  kill: (tag: number, signal: string, pgid: number) => `_q_kill ${tag} ${SIGNALS.has(signal) ? signal : word('!')} ${word(pgid)}\n`,
  block: (tag: number, key: string) => `_q_block ${tag} ${runKey(key)}\n`,
  remove: (tag: number, jobId: number) => `_q_rm ${tag} ${word(jobId)}\n`,
};

export type AgentLine =
  | { type: 'ready'; pid: number }
  | { type: 'failed'; reason: string }
  | { type: 'started'; tag: number; pid: number; key: string }
  | { type: 'ended'; key: string; status: number }
  | { type: 'file'; tag: number; key: string; content: string }
  | { type: 'answer'; tag: number; yes: boolean }
  | { type: 'done'; tag: number };

const STARTED = new RegExp(`^S (\\d+) (\\d+) (${RUN_KEY})$`);
const FILE = new RegExp(`^F (\\d+) (${RUN_KEY}) (.*)$`);

/** Parse one line of the agent's stdout; null for anything else. */
export function parseAgentLine(line: string): AgentLine | null {
  let m: RegExpExecArray | null;
  if ((m = /^R (\d+)$/.exec(line))) return { type: 'ready', pid: Number(m[1]) };
  if ((m = /^X (.*)$/.exec(line))) return { type: 'failed', reason: m[1]! };
  if ((m = STARTED.exec(line))) return { type: 'started', tag: Number(m[1]), pid: Number(m[2]), key: m[3]! };
  const notice = parseEndNotice(line);
  if (notice) return { type: 'ended', ...notice };
  if ((m = FILE.exec(line))) return { type: 'file', tag: Number(m[1]), key: m[2]!, content: m[3]!.replace(/\|/g, '\n') };
  if ((m = /^A (\d+) ([01])$/.exec(line))) return { type: 'answer', tag: Number(m[1]), yes: m[2] === '1' };
  if ((m = /^D (\d+)$/.exec(line))) return { type: 'done', tag: Number(m[1]) };
  return null;
}
