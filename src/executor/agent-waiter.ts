/**
 * The node agent as the waiter of its jobs (bash 4.4 or later, the agent's
 * shell wherever the node has bash): the bash text that agent-script.ts adds
 * to the agent. There is no wrapper process: the agent forks, and the child
 * claims the run file, enters the job directory, opens the output files,
 * exports the job's variables and execs the command; the agent reaps it,
 * appends its status to the run file and tells the master (`E key status`).
 * A job then costs one fork and one exec, as under `xargs -P`.
 *
 * The agent outlives the master: at end of input it reads no more requests,
 * but goes on reaping and recording its jobs until the last has ended, then
 * exits. A new master starts a new agent and adopts the jobs from their run
 * files, where the old agent records their ends. (If the agent itself is
 * killed, the ends of its running jobs are lost: they read as `lost`.)
 *
 * A job's identity is its pid and its start time (field 22 of
 * /proc/PID/stat, in clock ticks since boot), both in the claim line, so a
 * pid used again by another process is never taken for the job.
 *
 * Tags: qpy-multiuser's probe lists live jobs by the `QPY_TAG=` words in
 * command lines (node-probe.ts). With no wrapper, the agent keeps one marker
 * process whose argv lists its live jobs, `qpy-live QPY_TAG=USER:JOB:ATTEMPT@PGID…`,
 * made again at most once a second when the list changed (and at once when
 * the master goes away). The one before it lives until the next is made, so
 * a probe always finds a complete list; a marker reads its stdin from the
 * agent and exits when the agent does.
 *
 * Usage (what each job used, recorded with its end): once a second the
 * agent samples every job from /proc: its CPU time so far (/proc/PID/stat
 * fields 14-17: user and system, its own and its reaped children's), and
 * its memory (its process and descendants, as for the memory limit: each
 * one's PSS from /proc/PID/smaps_rollup, or its resident pages where there is
 * none; and the main process's VmHWM from /proc/PID/status), keeping the
 * peak. A job KILLed, not by the agent, while the kernel's count of OOM
 * kills grew (/proc/vmstat, read at every sample) ends `oom`. Bash reaps a child as soon as it ends (on SIGCHLD), before the
 * agent can read its last figures; but the agent's own children's CPU time
 * (fields 16-17 of its own stat) then grows by the child's total. So at the
 * ends the agent finds at one moment, that growth beyond the ended jobs'
 * last samples is shared among them by the time since each one's sample:
 * exact for a job that ends alone, approximate (never below its last sample)
 * for jobs that end together. A zombie the agent reaps itself (a bash with
 * SIGCHLD blocked) is read exactly before it is reaped. The record is the
 * line `usage USER_MS SYS_MS [PEAK_KB]` before the status line, and the same
 * figures after the status of `E` (the peak absent when no sample was taken:
 * a job of less than a second may have none). `_q_smp=0` (sent by
 * bench/limits-sampler only, as its baseline) turns sampling off; `_q_sn`
 * is the time between samples in microseconds (1 s; sent as 0 only by a test,
 * which has every sweep sample, test/integration/executor/agent-stress).
 *
 * Reading files: bash's `read` and `mapfile` read a file that can seek
 * through ONE input buffer, shared by every read; what a read leaves in it
 * (a line or a count short of the end) is given back with lseek(2). On
 * /proc/PID files that lseek fails (ESRCH) once the process has been
 * reaped, which bash does on SIGCHLD at any moment: the rest then stays in
 * the buffer and is served to the next read that uses it, the frame read
 * `read -N` on stdin included (a launch's bytes were replaced by the end of
 * a job's /proc/PID/status, and the launch lost). So every read of a /proc
 * file goes to its end (stat, statm: one line; status: all of it), and the
 * frame reader empties the buffer first (agent-script.ts, `_q_b`).
 *
 * Cost: bash copies a function's whole body at each call, and after a fork
 * every page that copy writes is a page fault (a third of the agent's CPU
 * per job is such faults). So what runs per job is kept in few, small
 * functions: rare paths (limits, the once-a-second sample, an OOM check, a
 * job directory's error) are functions of their own, called only when
 * needed, and the loop's timeout and the clock are written inline.
 *
 * Given to `eval` in bash; every name starts with `_q`, and the child's own
 * names after it exported the job's variables start with `_qw_` (names a job
 * variable may not have, see wrapper.ts).
 */
import { WRAPPER_NAME } from './wrapper.js';
import { CGROUP } from './agent-cgroup.js';

/** The length of a frame's header (`_q_b <bytes>;`, the count padded with blanks; frameRequests in agent-script.ts). */
export const FRAME_HEADER = 16;

/** The clock read inline, in _q_us (where EPOCHREALTIME is missing, bash 4.4, through _q_clock). */
const NOW = `_q_us=\${EPOCHREALTIME//[!0-9]/}; [ -n "$_q_us" ] || _q_clock;`;

/** The request loop's timeout in _q_to, from the jobs running and _q_idle (see _q_loop). */
const LOOP_TIMEOUT =
  `_c_n=\${#_q_kid[@]}; if [ "$_c_n" = 0 ]; then _q_to=0.5; else (( _c_t = 500 << _q_idle, _c_t >= _c_n * 100 || (_c_t = _c_n * 100), ` +
  `_c_t <= 100000 || (_c_t = 100000), _q_idle >= 8 || (_q_idle += 1) )); printf -v _q_to '0.%06d' "$_c_t"; fi;`;

const LINES = [
  // A master gone must not kill the agent with SIGPIPE while it writes: a trap that does nothing. (An
  // ignored signal would stay ignored in every job; a trapped one is reset in the child that runs one.)
  'trap : PIPE',
  // Per job, by pid: run key, tag, deadline, memory limit, KILL time, limit that stopped it; CPU ticks
  // (user, system) at its last sample and when (µs), peak kB; and the jobs a sample found gone.
  'declare -A _q_kid _q_tg _q_dl _q_ml _q_tk _q_why _q_cu _q_cs _q_ct _q_pk _q_gone',
  // Memory limits kept by the kernel, where a cgroup v2 subtree is the agent's (agent-cgroup.ts).
  CGROUP,
  // The page size in kB, for the resident pages in /proc/PID/statm.
  '_q_pgk=$(( $(getconf PAGESIZE 2>/dev/null || echo 4096) / 1024 )); [ "$_q_pgk" -gt 0 ] || _q_pgk=4',
  // Clock ticks a second, the unit of CPU times in /proc/PID/stat.
  '_q_hz=$(getconf CLK_TCK 2>/dev/null); [ "$_q_hz" -gt 0 ] 2>/dev/null || _q_hz=100',
  "_q_mk=0; _q_mt=0; _q_old=; _q_smp=1; _q_sn=1000000; _q_au=0; _q_as=0; _q_nl=$'\\n'; _q_dn=",
  // The line number of VmHWM in /proc/PID/status (empty if none).
  `_q_hwi=; mapfile -t _m </proc/$$/status 2>/dev/null; for _c_p in "\${!_m[@]}"; do case \${_m[$_c_p]} in VmHWM:*) _q_hwi=$_c_p; break;; esac; done`,
  // The line number of Pss in /proc/PID/smaps_rollup (Linux 4.14+; empty if none: resident pages are
  // counted from statm instead), and of oom_kill in /proc/vmstat (the kernel's OOM kills so far, in
  // _q_oom; empty if none).
  `_q_psi=; _m=(); mapfile -t _m </proc/$$/smaps_rollup 2>/dev/null; for _c_p in "\${!_m[@]}"; do case \${_m[$_c_p]} in Pss:*) _q_psi=$_c_p; break;; esac; done`,
  `_q_oki=; _m=(); mapfile -t _m </proc/vmstat 2>/dev/null; for _c_p in "\${!_m[@]}"; do case \${_m[$_c_p]} in 'oom_kill '*) _q_oki=$_c_p; break;; esac; done`,
  `_q_oomc() { _m=(); [ -z "$_q_oki" ] || mapfile -t _m </proc/vmstat 2>/dev/null; _c_o=\${_m[_q_oki]-}; case $_c_o in 'oom_kill '*) _q_oom=\${_c_o#* };; esac; }; _q_oom=0; _q_oomc; _q_oom1=$_q_oom`,
  // The start time of process $1 in _qs (false when there is no such process).
  `_q_start() { _qs=; read -r _s <"/proc/$1/stat" 2>/dev/null || return 1; _s=\${_s##*") "}; _a=($_s); _qs=\${_a[19]}; [ -n "$_qs" ]; }`,
  // Is live process $1 the job of key $2? Its claim names its pid and start time (or, for a job of a
  // wrapper, its argv does: qpy-job RUN KEY).
  `_q_ident() { _cl=; read -r _cl <"$RUN/$2.run" 2>/dev/null; case $_cl in "$1 "*) _q_start "$1" && [ "$_qs" = "\${_cl#* }" ];; *) _a=(); mapfile -t -d '' -n 6 _a <"/proc/$1/cmdline" 2>/dev/null; [ "\${_a[3]-}" = ${WRAPPER_NAME} ] && [ "\${_a[4]-}" = "$RUN" ] && [ "\${_a[5]-}" = "$2" ];; esac; }`,
  // The child: $1 key, $2 job id, $3 directory, $4 command line, $5 argv to exec (quoted words, or
  // empty: sh runs the line), $6 the limits (the agent's business), $7 and $8 the output and error
  // files (relative to the directory or absolute; $8 empty: into $7's), then NAME=VALUE words. Claim
  // first; a claim that exists already (a master blocked this launch) ends it at once, status 125,
  // with nothing run. Its descriptors are set by \`exec\` alone: a redirection on a command costs
  // three times the system calls, as bash saves and restores the descriptor. First its errors go
  // nowhere, the agent's descriptors close, and its input is /dev/null (never the agent's own, its
  // requests: the agent's /dev/null descriptor), then its own /proc stat (its start time, read with no
  // redirection). Then the claim is its output (where an error before the job's output files is
  // recorded; noclobber only for it, lest an exported SHELLOPTS carry it into a job's scripts), the
  // job's variables are exported, the program is checked, and the output files are opened last.
  // Every command here costs twice, as bash copies the body at the call and the copy writes memory
  // the child shares with the agent: so nothing is copied into variables, and what \`read\` sets is
  // not cleared first.
  `_q_run() { exec 2>/dev/null >&2 <&$_q_nul 8>&- 9>&- {_q_nul}<&-; exec <"/proc/$BASHPID/stat"; [ -z "$_q_cgp" ] || echo $BASHPID >"$_q_cgp/cgroup.procs"; ` +
    // The start time: one \`read\` of the fields while the process's name is the agent's own and has no blank (_q_kf):
    // a pattern on the whole line (_q_start) costs three times as much.
    `if [ -n "$_q_kf" ]; then read -r _y _y _y _y _y _y _y _y _y _y _y _y _y _y _y _y _y _y _y _y _y _qs _y; else _q_start $BASHPID; fi; ` +
    `set -C; exec >"$RUN/$1.run" || exit 125; set +C; echo "$BASHPID\${_qs:+ $_qs}"; cd "$3" || _q_cwde "$3"; [ $# -lt 9 ] || export -- "\${@:9}"; ` +
    // A program that is neither a binary nor a #! script is run by sh, as sh -c would (bash's exec would run it itself).
    `if [ -n "$5" ]; then eval "_qw_w=($5)"; case \${_qw_w[0]} in */*) _qw_p=\${_qw_w[0]};; *) _q_path;; esac; ` +
    `read -r -N 2 _qw_h <"$_qw_p" || _qw_h=x; case $_qw_h in '#!'|$'\\x7f'E|x) _qw_d=1;; esac; fi; ` +
    `if [ -n "$8" ]; then exec </dev/null >"$7" 2>"$8"; else exec </dev/null >"$7" 2>&1; fi || { echo "error output" >>"$RUN/$1.run"; exit 126; }; ` +
    `[ -z "$_qw_d" ] || exec -- "\${_qw_w[@]}"; exec /bin/sh -c "$4" ${WRAPPER_NAME}; }`,
  // In the child (_q_run): why the job's directory cannot be entered, and end (kept out of _q_run, which
  // bash copies at every call); and where the program \${_qw_w[0]} is found in PATH, in _qw_p (empty
  // if nowhere).
  `_q_cwde() { _qw_e=cwd-missing; [ -e "$1" ] && _qw_e=cwd-notdir; [ -d "$1" ] && _qw_e=cwd-denied; echo "error $_qw_e"; exit 126; }`,
  `_q_path() { _qw_p=\${_qw_w[0]}; if hash -- "$_qw_p"; then _qw_p=\${BASH_CMDS[$_qw_p]-}; else _qw_p=; fi; }`,
  // Start job $3 under its next free run key from attempt $2 on; $4 on are _q_run's arguments after the key.
  // Limits \`SECONDS:GRACE_MS:KB\` ($5, either end may be empty): a deadline (_q_dl, microseconds) and a
  // memory ceiling (_q_ml, kB), each with the grace between TERM and KILL.
  `_q_launch() { _t=$1 _n=$2 _k=$3; shift 2; [ "$_n" = 0 ] || _k=$1.a$_n; while [ -e "$RUN/$_k.run" ]; do _n=$((_n+1)); _k=$1.a$_n; done; ` +
    // With no job running, what the agent's children used so far is no job's (see _q_end).
    `[ \${#_q_kid[@]} -gt 0 ] || ! _q_kcpu || { _q_au=$_q_ku; _q_as=$_q_ks; }; ${NOW} _q_cgp=; [ -z "$_q_cg" ] || case $5 in *:*:?*) _q_cgj "$_k" "\${5##*:}";; esac; ` +
    `_q_run "$_k" "$@" & _q_kid[$!]=$_k _q_ct[$!]=$_q_us; [ -z "$_q_cgp" ] || _q_cgk[$!]=$_q_cgp; case \${!#} in QPY_TAG=*) _q_tg[$!]=\${!#}@$!; _q_mk=1;; esac; ` +
    `case $5 in *:*:*) _q_lim "$5" $!;; esac; echo "S $_t $! $_k"; }`,
  // The limits $1 of job $2 just started (see _q_launch).
  `_q_lim() { _c_l=\${1%%:*}; _c_r=\${1#*:}; _c_g=$((\${_c_r%%:*} * 1000)); _c_m=\${_c_r#*:}; ` +
    `[ -z "$_c_l" ] || { _c_l=$((_q_us + _c_l * 1000000)); _q_dl[$2]=$_c_l:$_c_g; [ -n "$_q_dn" ] && [ "$_q_dn" -le "$_c_l" ] || _q_dn=$_c_l; }; ` +
    `[ -z "$_c_m" ] || _q_ml[$2]=$_c_m:$_c_g; }`,
  // The clock in microseconds, in _q_us (bash 5: EPOCHREALTIME; bash 4.4: whole seconds).
  `_q_clock() { _q_us=\${EPOCHREALTIME//[!0-9]/}; [ -n "$_q_us" ] || { printf -v _q_us '%(%s)T' -1; _q_us=\${_q_us}000000; }; }`,
  // Fields of /proc/$1/stat: state _st, parent _pp, CPU ticks _ut _sy (its own) _cu _cs (its reaped
  // children's), resident pages _rs; false if unreadable. One `read` splits them; a name with blanks
  // (field 2) shifts the words, and then the text after the name's `) ` is split instead, read whole
  // and unbuffered (one byte a system call, but only then), as the name may hold a newline (and the
  // first read may then have left the rest in bash's buffer: emptied, see "Reading files").
  `_q_stat() { read -r _y _c _st _pp _y _y _y _y _y _y _y _y _y _ut _sy _cu _cs _y _y _y _y _y _y _rs _y <"/proc/$1/stat" || return 1; ` +
    `case $_c in *')') ;; *) while read -r -u $_q_nul _s; do :; done; read -r -d '' _s <"/proc/$1/stat"; [ -n "$_s" ] || return 1; _s=\${_s##*") "}; _a=($_s); _st=\${_a[0]} _pp=\${_a[1]} _ut=\${_a[11]} _sy=\${_a[12]} _cu=\${_a[13]} _cs=\${_a[14]} _rs=\${_a[21]};; esac; ` +
    `[ \${#_st} = 1 ] || return 1; case $_pp$_ut$_sy$_cu$_cs$_rs in *[!0-9]*|'') return 1;; esac; }`,
  // The agent's reaped children's CPU ticks so far, in _q_ku _q_ks: one \`read\` of the fields when the
  // agent's own name has no blank (_q_kf, found once: it never execs), as at every job's end.
  `_q_kf=; read -r _y _c _y <"/proc/$$/stat" && case $_c in *')') _q_kf=1;; esac`,
  `_q_kcpu() { if [ -n "$_q_kf" ]; then read -r _y _y _y _y _y _y _y _y _y _y _y _y _y _y _y _q_ku _q_ks _y <"/proc/$$/stat"; else _q_stat $$ && _q_ku=$_cu && _q_ks=$_cs; fi; }`,
  // Sample live job $1, a child of this agent: its CPU ticks (false if it is gone, a zombie, or not ours).
  `_q_cpu() { _q_stat "$1" || return 1; case $_st in Z|X) return 1;; esac; [ "$_pp" = $$ ] || return 1; _q_cu[$1]=$((_ut + _cu)); _q_cs[$1]=$((_sy + _cs)); _q_ct[$1]=$_q_us; }`,
  // The memory (kB) of process $1 in _r: its proportional set size (PSS: a page shared by n processes
  // counts 1/n to each, so a tree of forked workers sharing its data is not counted n times) where
  // smaps_rollup gives it, else its resident pages (statm's second field). False if neither is readable.
  `_q_rss() { if [ -n "$_q_psi" ]; then _m=(); mapfile -t _m <"/proc/$1/smaps_rollup" 2>/dev/null; _r=\${_m[_q_psi]-}; case $_r in Pss:*) _r=\${_r//[!0-9]/}; return 0;; esac; fi; ` +
    `read -r _r _r _k <"/proc/$1/statm" 2>/dev/null || return 1; _r=$((\${_r:-0} * _q_pgk)); }`,
  // The memory (kB) of process $1 and its descendants (_q_rss, the children through
  // /proc/PID/task/PID/children), added to _q_sum.
  `_q_walk() { local _p=$1 _r _k _c; _q_rss "$_p" || return 0; _q_sum=$((_q_sum + _r)); ` +
    `_k=; read -r _k <"/proc/$_p/task/$_p/children"; for _c in $_k; do _q_walk "$_c"; done; }`,
  // Memory of job $1 just sampled by _q_cpu (its resident pages in _rs, used where there is no PSS): the whole tree in _q_sum, and
  // its peak, also its main process's VmHWM (a peak between two samples), in _q_pk. VmHWM's line is
  // taken by its number (_q_hwi, found once in the agent's own status: the same for every process), as
  // looking for it costs twice as much as the read. The whole file is read (see "Reading files" above).
  `_q_mem() { if [ -n "$_q_psi" ] && _q_rss "$1"; then _q_sum=$_r; else _q_sum=$((_rs * _q_pgk)); fi; _k=; read -r _k <"/proc/$1/task/$1/children"; for _c in $_k; do _q_walk "$_c"; done; ` +
    `_h=0; [ -z "$_q_hwi" ] || { _m=(); mapfile -t _m <"/proc/$1/status"; _m=\${_m[_q_hwi]-}; case $_m in VmHWM:*) _h=\${_m//[!0-9]/};; esac; }; ` +
    `_c_m=\${_q_pk[$1]:-0}; [ "$_q_sum" -le "$_c_m" ] || _c_m=$_q_sum; [ "\${_h:-0}" -le "$_c_m" ] || _c_m=$_h; _q_pk[$1]=$_c_m; }`,
  // Stop job $1 for limit $2 with grace $3 (microseconds): TERM to its group now, KILL when _q_tk says.
  `_q_stop() { kill -s TERM -- "-$1"; _q_tk[$1]=$((_q_us + $3)); _q_why[$1]=$2; }`,
  // Once a second, every job not found gone: sampled (CPU, memory, peak) unless sampling is off; a job
  // gone or a zombie joins _q_gone; one above its memory ceiling is stopped.
  `_q_sample() { for _c_p in "\${!_q_kid[@]}"; do ` +
    `if [ "$_q_smp" = 1 ] && _q_cpu "$_c_p"; then _q_mem "$_c_p"; elif ! _q_state "$_c_p" || [ "$_st" = Z ] || [ "$_st" = X ]; then _q_gone[$_c_p]=1; continue; ` +
    `elif [ -n "\${_q_ml[$_c_p]-}" ]; then _q_sum=0; _q_walk "$_c_p"; fi; ` +
    `_c_d=\${_q_ml[$_c_p]-}; [ -z "$_c_d" ] || [ -n "\${_q_tk[$_c_p]-}" ] || [ "$_q_sum" -le "\${_c_d%%:*}" ] || _q_stop "$_c_p" memory "\${_c_d#*:}"; done; }`,
  // Limits, at the sweep's clock (_q_us): a job past its deadline is stopped (one above its memory
  // ceiling is, by _q_sample), and KILLed once its grace is over. They hold with or without a master:
  // the loop, and the drain after the master has gone, look at least every 0.1 s while jobs run. The
  // deadlines are looked through only once the next one (_q_dn) has come.
  `_q_limits() { [ \${#_q_dl[@]} -gt 0 ] || [ \${#_q_tk[@]} -gt 0 ] || return 0; ` +
    `if [ \${#_q_dl[@]} -gt 0 ] && [ "$_q_us" -ge "\${_q_dn:-0}" ]; then _q_dn=; for _c_p in "\${!_q_dl[@]}"; do [ -z "\${_q_tk[$_c_p]-}" ] || continue; _c_d=\${_q_dl[$_c_p]}; ` +
    `if [ "$_q_us" -ge "\${_c_d%%:*}" ]; then _q_stop "$_c_p" time "\${_c_d#*:}"; elif [ -z "$_q_dn" ] || [ "\${_c_d%%:*}" -lt "$_q_dn" ]; then _q_dn=\${_c_d%%:*}; fi; done; fi; ` +
    `for _c_p in "\${!_q_tk[@]}"; do [ "$_q_us" -lt "\${_q_tk[$_c_p]}" ] || { kill -s KILL -- "-$_c_p"; _q_tk[$_c_p]=$((_q_us + 3600000000)); }; done; }`,
  // Record the end of the children $@, reaped (found gone by \`kill -0\`), at the sweep's clock: each is
  // waited for (its status), its usage worked out (see the top), its usage and status appended to its
  // run file in one write (a claim it lost reads \`none\` whatever follows), then told. Every job bash
  // has reaped by the time the agent's children's CPU is read joins them (looked for again after each
  // read, until none has), so that this read counts exactly these jobs: a job leaves _q_kid as soon as
  // it is waited for, and only those left are looked at again. Sets _w (the status of $1). Its
  // messages go nowhere (the sweep's redirection).
  `_q_end() { _q_idle=0 _e_w=0 _e_bu=0 _e_bs=0 _e_ok= _e_all=() _e_ks=() _e_ws=(); while [ $# -gt 0 ]; do ` +
    `for _e_p; do wait "$_e_p"; _e_ws+=($?) _e_all+=("$_e_p") _e_ks+=("\${_q_kid[$_e_p]}"); unset "_q_kid[$_e_p]"; ` +
    `(( _e_bu += \${_q_cu[$_e_p]:-0}, _e_bs += \${_q_cs[$_e_p]:-0}, _e_w += (_q_us - \${_q_ct[$_e_p]:-$_q_us}) / 1000 )); done; ` +
    `_q_kcpu || { _e_ok=; break; }; _e_ok=1; set --; for _c_p in "\${!_q_kid[@]}"; do kill -0 "$_c_p" || set -- "$@" "$_c_p"; done; done; ` +
    `_e_du=0 _e_ds=0; [ -z "$_e_ok" ] || (( _e_du = _q_ku - _q_au - _e_bu, _e_ds = _q_ks - _q_as - _e_bs, _q_au = _q_ku, _q_as = _q_ks )); ` +
    `(( _e_du >= 0 || (_e_du = 0), _e_ds >= 0 || (_e_ds = 0), _e_w > 0 || (_e_w = 1) )); ` +
    `_e_oc=; for _e_i in "\${!_e_all[@]}"; do _e_p=\${_e_all[_e_i]} _w=\${_e_ws[_e_i]} _c_k=\${_e_ks[_e_i]} _c_r=\${_q_why[$_e_p]:+ \${_q_why[$_e_p]}} _e_x=; ` +
    // KILLed, not by this agent: by the kernel's OOM killer if it killed anything since the sample before the last.
    `[ -z "\${_q_cgk[$_e_p]-}" ] || _q_cge "$_e_p"; [ "$_w" != 137 ] || [ -n "$_c_r" ] || _q_oomk; ` +
    `if [ -n "$_e_ok" ]; then (( _e_t = (_q_us - \${_q_ct[$_e_p]:-$_q_us}) / 1000, _e_u = (\${_q_cu[$_e_p]:-0} + _e_du * _e_t / _e_w) * 1000 / _q_hz, ` +
    `_e_s = (\${_q_cs[$_e_p]:-0} + _e_ds * _e_t / _e_w) * 1000 / _q_hz )); _e_x=" $_e_u $_e_s\${_q_pk[$_e_p]:+ \${_q_pk[$_e_p]}}"; fi; ` +
    `unset "_q_dl[$_e_p]" "_q_ml[$_e_p]" "_q_tk[$_e_p]" "_q_why[$_e_p]" "_q_cu[$_e_p]" "_q_cs[$_e_p]" "_q_ct[$_e_p]" "_q_pk[$_e_p]"; ` +
    `[ -z "\${_q_tg[$_e_p]-}" ] || { unset "_q_tg[$_e_p]"; _q_mk=1; }; ` +
    `echo "\${_e_x:+usage$_e_x$_q_nl}exit $_w$_c_r" >>"$RUN/$_c_k.run"; echo "E $_c_k $_w$_c_r$_e_x"; done; _w=\${_e_ws[0]}; }`,
  // A job KILLed (in _q_end), not by this agent: by the OOM killer if the kernel's count grew since the sample before the last.
  `_q_oomk() { [ -n "$_e_oc" ] || { _q_oomc; _e_oc=1; }; [ "$_q_oom" -le "$_q_oom1" ] || _c_r=' oom'; }`,
  // The same for children $@ found gone another way (_q_sample, _q_live): a zombie's last figures are
  // read before it is waited for (exact, where bash has not reaped it yet).
  `_q_zend() { _q_clock; for _e_p; do _q_stat "$_e_p" && [ "$_st" = Z ] && [ "$_pp" = $$ ] && { _q_cu[$_e_p]=$((_ut + _cu)); _q_cs[$_e_p]=$((_sy + _cs)); _q_ct[$_e_p]=$_q_us; }; done; _q_end "$@"; }`,
  // The wait status of a gone process $1 when it is a child of this agent (recording its end), else empty.
  `_q_status() { _w=; [ -z "\${_q_kid[$1]-}" ] || _q_zend "$1" 2>/dev/null; }`,
  // Sweep: record every child that has gone. It reads the clock once (_q_us) for the limits and the
  // marker too. After a request the loop sweeps at most every 2 ms (_c_next, set here; bash 5:
  // EPOCHREALTIME), checked before the call, which bash would copy for nothing; with $1 set it sweeps
  // every time (\`wake\`: the loop woke; \`now\`: the master has gone, and the marker is made again at
  // once too): a sweep after every request, as short jobs end one by one, costs more (1 ms: about 5 %
  // more of the agent's CPU per job), and the loop's wake 0.5 ms after a request sweeps anyway.
  // One redirection for the whole sweep, the ends and limits included: one on each \`kill\` would cost
  // five system calls a job. \`kill -0\` finds a job gone once bash has reaped it, which it does when
  // SIGCHLD comes; but a bash was seen with SIGCHLD blocked for good (its zombies never reaped), so
  // at every sample (once a second) the sweep also reads each job's state from /proc (sampling it,
  // _q_sample) and waits for a zombie itself. The ends found are recorded at once, so that the
  // agent's children's CPU time is read right after. Without /proc (\`_QK\` none, agent-script.ts)
  // there is nothing to sample, and a job whose state cannot be read is not taken for gone: the
  // sweep would otherwise wait for a live job, and the agent stall until it ended.
  `_q_reap() { ${NOW} _c_next=$((_q_us + 2000)); ` +
    `{ _c_g=; for _c_p in "\${!_q_kid[@]}"; do kill -0 "$_c_p" || _c_g="$_c_g $_c_p"; done; [ -z "$_c_g" ] || _q_end $_c_g; ` +
    `[ "$_QK" = none ] || [ "$_q_us" -lt "\${_c_zn:-0}" ] || _q_sweep1; [ \${#_q_dl[@]} -eq 0 ] && [ \${#_q_tk[@]} -eq 0 ] || _q_limits; } 2>/dev/null; ` +
    `[ "$_q_us" -lt "$_q_mt" ] && [ "$1" != now ] || _q_mark "$1"; }`,
  // The sweep's once-a-second part (_q_reap): the OOM count, cgroups gone, and a sample of every job.
  `_q_sweep1() { _c_zn=$((_q_us + _q_sn)); _q_oom1=$_q_oom; _q_oomc; [ \${#_q_cgd[@]} -eq 0 ] || _q_cgx; _q_gone=(); _q_sample; [ \${#_q_gone[@]} -eq 0 ] || _q_zend "\${!_q_gone[@]}"; }`,
  // The marker, at the sweep's clock: a new one when the list changed, at most once a second unless $1
  // is \`now\`. The one before it is closed only then, or a second later when nothing changed
  // (\`_q_old\`), so a complete list is always there, and a stale one goes within a second or two.
  `_q_mark() { if [ "$_q_mk" != 1 ]; then if [ -n "$_q_old" ] && [ "$_q_us" -ge "$_q_mt" ]; then exec 8>&-; _q_old=; fi; return 0; fi; ` +
    `[ "$1" = now ] || [ "$_q_us" -ge "$_q_mt" ] || return 0; _q_mt=$((_q_us + 1000000)); _q_mk=0; _q_old=1; ` +
    `{ exec 8>&-; exec 8>&9; exec 9>&-; } 2>/dev/null; [ \${#_q_tg[@]} -eq 0 ] || exec 9> >(exec /bin/sh -c 'read _x' qpy-live "\${_q_tg[@]}" >/dev/null 2>&1 8>&- 9>&-); }`,
  // The request loop's timeout: its only way to learn of an end is to look (a CHLD trap kills bash 5.2
  // once \`wait PID\` reaps, and does not cut a \`read -t\` short anyway). It looks 0.5 ms after a request
  // or an end, then twice as late each time nothing happened, up to 0.1 s: a short job's end is told
  // at once, a long one's costs ten looks a second (about 0.3 ms of CPU). Each look checks every job,
  // so with many jobs it starts later (0.1 ms a job). With no job, 0.5 s. Written into the loop (LOOP_TIMEOUT),
  // not a function: bash copies a function's body at every call, and each copy, after a fork, costs page faults.
  // The loop reads frame headers (\`_q_b N;\` in FRAME_HEADER bytes, see frameRequests) with one
  // \`read -N\`. Part of a header read before the timeout is kept, and the rest is read before
  // anything else: the rest may be in bash's input buffer, which a read of a file would overwrite
  // (see "Reading files"). Bash 5.2 may report a timeout for a read that is complete, so a header is
  // complete once all its bytes are there, whatever the status. A read that fails (status 1) with
  // nothing read three times in a row is the end of input. A frame's header is run as _q_b's call, with no
  // \`eval\` (anything else is eval'd).
  `_q_loop() { _q_acc=; _q_idle=0; _q_z=0; while :; do ${LOOP_TIMEOUT} _q_in=; if IFS= read -r -N $((${FRAME_HEADER} - \${#_q_acc})) -t $_q_to _q_in; then _q_st=0; else _q_st=$?; fi; _q_acc=$_q_acc$_q_in; ` +
    `if [ \${#_q_acc} -ge ${FRAME_HEADER} ]; then _q_idle=0; _q_z=0; _q_in=$_q_acc; _q_acc=; case $_q_in in '_q_b '*';') _q_b \${_q_in:5:${FRAME_HEADER - 6}};; *) eval "$_q_in";; esac; _q_us=\${EPOCHREALTIME//[!0-9]/}; [ -n "$_q_us" ] && [ "$_q_us" -lt "\${_c_next:-0}" ] || _q_reap; ` +
    `elif [ -n "$_q_in" ]; then _q_z=0; elif [ $_q_st -gt 128 ]; then _q_reap wake; elif [ $_q_z -lt 2 ]; then _q_z=$((_q_z + 1)); else break; fi; done; _q_drain; }`,
  // At end of input: answer no one, record every job still running as it ends (keeping its limits),
  // then go. It looks every 0.1 s, sleeping in a read of a pipe that nobody writes (no fork).
  `_q_drain() { exec >/dev/null 2>&1; _q_mk=1; _q_reap now; exec {_q_sl}<> <(:); while [ \${#_q_kid[@]} -gt 0 ]; do read -r -t 0.1 -u "$_q_sl" _q_x; _q_reap wake; done; _q_reap now; exec 8>&- 9>&-; }`,
];

/**
 * How far behind its agent's jobs a marker may be: made again within a
 * second of a change, seen by a loop that wakes at least every 0.5 s. A list
 * of live jobs counts for a master gone only if it was taken this long after.
 */
export const MARKER_LAG_MS = 3000;

/** The bash text that makes the agent the waiter of its jobs. */
export const WAITER = LINES.join('\n');
