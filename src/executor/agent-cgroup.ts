/**
 * Memory limits kept by the kernel: the node agent's use of a cgroup v2
 * subtree delegated to the user (bash text, part of the waiter agent,
 * agent-waiter.ts). Where the agent's own cgroup is such a subtree, with the
 * memory controller available to it, the agent moves itself into a leaf of
 * its own (`qpy-agent`: a cgroup that hands controllers to its children may
 * hold no process), gives the memory controller to its children, and puts
 * each job with a memory limit in a group of its own, `job-KEY`, with
 * `memory.max` at the limit, no swap, and `memory.oom.group` (the kernel
 * kills the whole job, not one of its processes). The kernel then keeps the
 * limit at every allocation, where the agent's sampling (once a second) may
 * come late; the sampling goes on beside it, for usage and as a backstop.
 * A job whose group counted an OOM kill ends `cgroup`; its group is removed
 * once empty.
 *
 * Where does an agent get such a subtree? Started under
 * `systemd-run --user --scope -p Delegate=yes` (agent-script.ts does so
 * where the user's manager outlives their sessions: lingering), or in any
 * cgroup an administrator delegated. Anywhere else (cgroup v1, no
 * delegation, another process in the same group) `_q_cgi` fails and the
 * agent keeps limits by sampling /proc alone.
 *
 * Given to `eval` in bash; `_q_cgr` (the cgroup2 mount point, found in
 * /proc/mounts) may be set before `_q_cgi` runs: by a test, to a directory
 * that stands for one.
 */

const LINES = [
  // The directory of this agent's job groups (empty: none), each job's group by pid, groups left to remove.
  'declare -A _q_cgk; _q_cg=; _q_cgd=(); _q_cgp=',
  // Take the agent's own cgroup for its jobs' groups if it can (see the top); false if not.
  `_q_cgi() { local _l _p= _r=\${_q_cgr-} _d _a _b _c _e; _q_cg=; ` +
    `[ -n "$_r" ] || while read -r _a _b _c _e; do [ "$_c" != cgroup2 ] || [ -n "$_r" ] || _r=$_b; done </proc/mounts; [ -n "$_r" ] || return 1; ` +
    `while IFS= read -r _l; do case $_l in 0::*) _p=\${_l#0::};; esac; done </proc/$$/cgroup; case $_p in /*) ;; *) return 1;; esac; _d=$_r\${_p%/}; ` +
    `[ -w "$_d/cgroup.procs" ] && [ -w "$_d/cgroup.subtree_control" ] || return 1; _l=; read -r _l <"$_d/cgroup.controllers"; ` +
    `case " $_l " in *" memory "*) ;; *) return 1;; esac; ` +
    `{ mkdir -p "$_d/qpy-agent" && echo $$ >"$_d/qpy-agent/cgroup.procs"; } 2>/dev/null || return 1; ` +
    `if ! { echo +memory >"$_d/cgroup.subtree_control"; } 2>/dev/null; then { echo $$ >"$_d/cgroup.procs"; rmdir "$_d/qpy-agent"; } 2>/dev/null; return 1; fi; _q_cg=$_d; }`,
  // Before a job's fork: a group for the job of key $1 with a limit of $2 kB, in _q_cgp (empty if none
  // could be made: its limit is then kept by sampling alone). Its child joins it first thing once its
  // descriptors are set (_q_run).
  `_q_cgj() { _q_cgp=$_q_cg/job-$1; { mkdir "$_q_cgp" && echo $(($2 * 1024)) >"$_q_cgp/memory.max"; } 2>/dev/null || { rmdir "$_q_cgp" 2>/dev/null; _q_cgp=; return 1; }; ` +
    `{ echo 0 >"$_q_cgp/memory.swap.max"; echo 1 >"$_q_cgp/memory.oom.group"; } 2>/dev/null; return 0; }`,
  // At the end of job $1 (a pid): if its group counted an OOM kill, _c_r says ` cgroup`; the group is
  // removed, or kept to be removed once its last process has gone (_q_cgx, at every sample).
  `_q_cge() { _c_d=\${_q_cgk[$1]-}; [ -n "$_c_d" ] || return 0; unset "_q_cgk[$1]"; _c_o=0; ` +
    `while read -r _c_a _c_b; do [ "$_c_a" != oom_kill ] || _c_o=$_c_b; done <"$_c_d/memory.events"; ` +
    `[ -n "$_c_r" ] || [ "\${_c_o:-0}" = 0 ] || _c_r=' cgroup'; rmdir "$_c_d" || _q_cgd+=("$_c_d"); }`,
  `_q_cgx() { local _d _l=(); for _d in "\${_q_cgd[@]}"; do rmdir "$_d" || _l+=("$_d"); done; _q_cgd=("\${_l[@]}"); }`,
];

/** The bash text of the agent's cgroup v2 memory limits. */
export const CGROUP = LINES.join('\n');
