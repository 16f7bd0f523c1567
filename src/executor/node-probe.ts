/**
 * Probing a node (reference §3.2, done better): one small POSIX sh script,
 * run on the node over SSH (or locally for `localhost`), prints the node's
 * cores, 5-minute load, memory, the live qpy jobs (by the tags in command
 * lines: each wrapper's own, and the lists of the agents' markers, see
 * agent-waiter.ts), the processes busy above 50 % of a CPU (from two `top`
 * samples half a second apart, so the figure is current) split into
 * outsiders and qpy's own, and, when asked, a directory's disk usage. Pure
 * text in, facts out.
 */
import { parseJobTag, shellQuote, TAG_VAR } from './wrapper.js';
import { AGENT_NAME } from './agent-script.js';

const SCRIPT = [
  'echo "cores $(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"',
  'read _a _b _c < /proc/loadavg && echo "load $_b"',
  `awk '/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2} END{print "mem", t+0, a+0}' /proc/meminfo`,
  // The live jobs, one `tag PGID USER:JOB:ATTEMPT` line each: a wrapper's QPY_TAG argument (wrapper.ts;
  // its pid is its job's group), and every `QPY_TAG=…@PGID` argument of an agent's marker
  // (agent-waiter.ts); then `tags-ok` once the list is complete (a grep without -z lists nothing, and a
  // /proc mounted with hidepid hides other accounts' processes: the daemon then releases nothing). The
  // grep's own pattern starts with ^, so it never lists itself.
  `if printf 'x\\0' | grep -qz '^x$' 2>/dev/null && ! awk '$2 == "/proc" && $4 ~ /hidepid=([12]|noaccess|invisible|ptraceable)/ {h = 1} END {exit !h}' /proc/mounts 2>/dev/null; then _tags=$(grep -a -s -z -H '^${TAG_VAR}=' /proc/[0-9]*/cmdline | tr '\\000' '\\n' | sed -n -e 's,^/proc/[0-9]*/cmdline:${TAG_VAR}=\\([^@]*\\)@\\([0-9]*\\)$,tag \\2 \\1,p' -e 't' -e 's,^/proc/\\([0-9]*\\)/cmdline:${TAG_VAR}=,tag \\1 ,p'); [ -n "$_tags" ] && printf '%s\\n' "$_tags"; echo tags-ok; fi`,
  // Busy processes (above 50 % of a CPU over two top samples half a second apart): `busy OUTSIDERS OURS`,
  // where ours are in a listed job's process group, in a group whose leader an agent started (a job
  // newer than its agent's marker), or are qpy's own processes.
  `if command -v top >/dev/null 2>&1; then _tp=" $(printf '%s\\n' "$_tags" | awk '{printf "%s ", $2}')"; _o=0; _q=0; for _p in $(top -b -n 2 -d 0.5 2>/dev/null | awk '/^ *PID /{n++; for (i = 1; i <= NF; i++) {if ($i == "%CPU") col = i; if ($i == "PID") pc = i}; next} n == 2 && col && pc && $col + 0 > 50 {print $pc}'); do _g=$(sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null | cut -d' ' -f3); case "$_tp" in *" $_g "*) _q=$((_q+1)); continue;; esac; _pp=$(sed 's/.*) //' "/proc/$_g/stat" 2>/dev/null | cut -d' ' -f2); case "$(tr '\\000' ' ' <"/proc/$_p/cmdline" 2>/dev/null) $(tr '\\000' ' ' <"/proc/\${_pp:-0}/cmdline" 2>/dev/null)" in *qpy-master*|*qpy-multiuser*|*/bin/qpy\\ *|*${AGENT_NAME}*) _q=$((_q+1)); continue;; esac; _o=$((_o+1)); done; echo "busy $_o $_q"; fi`,
  `if [ -n "$1" ]; then df -Pk -- "$1" 2>/dev/null | awk 'NR == 2 {print "disk", $3, $2}'; fi`,
].join('\n');

/** The command line that probes a node (for an SSH exec, or `sh -c` locally). */
export function probeCommand(checkDir: string | null): string {
  return `sh -c ${shellQuote(SCRIPT)} qpy-probe ${shellQuote(checkDir ?? '')}`;
}

/** A live job seen by a probe (pid: its process group). */
export interface LiveTag {
  pid: number;
  user: string;
  jobId: number;
  attempt: number;
}

export interface ProbeResult {
  cores: number;
  load: number;
  memTotalGB: number;
  memUsedGB: number;
  /** Processes using more than half a CPU, or null when the node has no `top`. */
  busy: number | null;
  /** Of those, the ones that are not qpy's (jobs' process groups, daemons): null when the tags are unknown. */
  outsiders: number | null;
  /** The live jobs by their tag, or null when the node could not list them (no `grep -z`). */
  tags: LiveTag[] | null;
  disk: { usedGB: number; totalGB: number } | null;
}

const GB_IN_KB = 1024 * 1024;
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Parse the probe's output; null if it lacks cores, load or memory (the node is then treated as down). */
export function parseProbe(text: string): ProbeResult | null {
  const fields = new Map<string, number[]>();
  const tags: LiveTag[] = [];
  let tagsOk = false;
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'tag') {
      const t = parseJobTag(rest[1] ?? '');
      const pid = Number(rest[0]);
      if (t !== null && Number.isSafeInteger(pid) && pid > 0) tags.push({ pid, ...t });
    } else if (key === 'tags-ok') tagsOk = true;
    else if (key) fields.set(key, rest.map(Number));
  }
  const [cores] = fields.get('cores') ?? [];
  const [load] = fields.get('load') ?? [];
  const [total, avail] = fields.get('mem') ?? [];
  if (
    !Number.isSafeInteger(cores) ||
    cores! < 1 ||
    !Number.isFinite(load) ||
    !Number.isFinite(total) ||
    !Number.isFinite(avail) ||
    total! <= 0
  )
    return null;
  const [busyOthers, busyOurs] = fields.get('busy') ?? [];
  const [used, size] = fields.get('disk') ?? [];
  const known = Number.isSafeInteger(busyOthers);
  const split = known && Number.isSafeInteger(busyOurs) && tagsOk;
  return {
    cores: cores!,
    load: load!,
    memTotalGB: round1(total! / GB_IN_KB),
    memUsedGB: round1(Math.max(0, total! - avail!) / GB_IN_KB),
    busy: known ? busyOthers! + (Number.isSafeInteger(busyOurs) ? busyOurs! : 0) : null,
    outsiders: split ? busyOthers! : null,
    tags: tagsOk ? tags : null,
    disk: Number.isFinite(used) && Number.isFinite(size) && size! > 0 ? { usedGB: used! / GB_IN_KB, totalGB: size! / GB_IN_KB } : null,
  };
}
