/**
 * Probing a node (reference §3.2, done better): one small POSIX sh script,
 * run on the node over SSH (or locally for `localhost`), prints the node's
 * cores, 5-minute load, memory, the live qpy jobs (by the tags in command
 * lines: each wrapper's own, and the lists of the agents' markers, see
 * agent-waiter.ts), the processes busy above 50 % of a CPU (from two `top`
 * samples half a second apart, so the figure is current) split into
 * outsiders and qpy's own, when asked, a directory's disk usage, and the
 * GPUs with the processes on them, each told qpy's or an outsider's
 * (nvidia-smi's queries and their parsers: gpu-query.ts). Pure text in,
 * facts out.
 */
import { parseJobTag, shellQuote, TAG_VAR } from './wrapper.js';
import { AGENT_NAME } from './agent-script.js';
import { APPS_QUERY, GPU_QUERY, gpuOutsiders, parseGpuApp, quoteLine, readGpuList, type GpuApp, type GpuFacts } from './gpu-query.js';
import type { GpuDevice } from '../protocol/gpu.js';

/**
 * The GPUs, where `nvidia-smi` is on the PATH (else nothing runs, and none
 * are printed): `gpu-smi`, `gpu CSV` a line then `gpus-ok` (gpu-query.ts GPU_QUERY),
 * and, if that worked, `gpu-app OWNER CSV` a line then `gpu-apps-ok` (APPS_QUERY). OWNER is
 * the listed job whose process group or session holds the process or one
 * of its ancestors (its group, as in `tag`), `qpy` when an ancestor is a
 * job wrapper or a node agent (a job newer than its agent's marker, or no
 * tag list), or `-`: an outsider. The ancestry is read with `read` alone
 * (no process per step) but for each ancestor's command line. A hung
 * `nvidia-smi` (a driver in trouble) is stopped after 6 s where `timeout`
 * exists: the GPUs are then unknown, and the probe still in time.
 */
const GPU_LINES = [
  'if command -v nvidia-smi >/dev/null 2>&1; then echo gpu-smi; _to=; command -v timeout >/dev/null 2>&1 && _to="timeout 6"',
  `if _gq=$($_to ${GPU_QUERY} 2>/dev/null); then printf '%s\\n' "$_gq" | sed 's/^/gpu /'; echo gpus-ok`,
  `if _ga=$($_to ${APPS_QUERY} 2>/dev/null); then printf '%s\\n' "$_ga" | while IFS= read -r _l; do`,
  `[ -n "$_l" ] || continue; _w=-; _x=\${_l%%,*}; _n=0`,
  `while [ "$_n" -lt 64 ] && [ "\${_x:-0}" -gt 1 ] 2>/dev/null; do _n=$((_n+1))`,
  'case "$_tp" in *" $_x "*) _w=$_x; break;; esac',
  '_st=; read -r _st 2>/dev/null <"/proc/$_x/stat"; [ -n "$_st" ] || break',
  `_r=\${_st##*) }; _r=\${_r#* }; _pp=\${_r%% *}; _r=\${_r#* }; _pg=\${_r%% *}; _r=\${_r#* }; _ss=\${_r%% *}`,
  'case "$_tp" in *" $_pg "*) _w=$_pg; break;; *" $_ss "*) _w=$_ss; break;; esac',
  `case "$(tr '\\000' ' ' <"/proc/$_x/cmdline" 2>/dev/null)" in *${AGENT_NAME}*|*${TAG_VAR}=*) _w=qpy; break;; esac`,
  '_x=$_pp; done; echo "gpu-app $_w $_l"; done; echo gpu-apps-ok; fi',
  // Failed (or stopped after 6 s: 124): its exit status and first line (nvidia-smi tells its trouble on stdout).
  `else _rc=$?; printf 'gpus-failed %s %s\\n' "$_rc" "$(printf '%s\\n' "$_gq" | awk 'NF {print substr($0, 1, 200); exit}')"; fi; fi`,
];

const BASE_LINES = [
  'echo "cores $(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"',
  'read _a _b _c < /proc/loadavg && echo "load $_b"',
  `awk '/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2} END{print "mem", t+0, a+0}' /proc/meminfo`,
];

const TAG_LINES = [
  // The live jobs, one `tag PGID USER:JOB:ATTEMPT` line each: a wrapper's QPY_TAG argument (wrapper.ts;
  // its pid is its job's group), and every `QPY_TAG=…@PGID` argument of an agent's marker
  // (agent-waiter.ts); then `tags-ok` once the list is complete (a grep without -z lists nothing, and a
  // /proc mounted with hidepid hides other accounts' processes: the daemon then releases nothing). The
  // grep's own pattern starts with ^, so it never lists itself.
  `if printf 'x\\0' | grep -qz '^x$' 2>/dev/null && ! awk '$2 == "/proc" && $4 ~ /hidepid=([12]|noaccess|invisible|ptraceable)/ {h = 1} END {exit !h}' /proc/mounts 2>/dev/null; then _tags=$(grep -a -s -z -H '^${TAG_VAR}=' /proc/[0-9]*/cmdline | tr '\\000' '\\n' | sed -n -e 's,^/proc/[0-9]*/cmdline:${TAG_VAR}=\\([^@]*\\)@\\([0-9]*\\)$,tag \\2 \\1,p' -e 't' -e 's,^/proc/\\([0-9]*\\)/cmdline:${TAG_VAR}=,tag \\1 ,p'); [ -n "$_tags" ] && printf '%s\\n' "$_tags"; echo tags-ok; fi`,
  // The listed jobs' groups, ` G1 G2 … `, for the busy processes' and the GPUs' owners.
  `_tp=" $(printf '%s\\n' "$_tags" | awk '{printf "%s ", $2}')"`,
];

const SCRIPT = [
  ...BASE_LINES,
  ...TAG_LINES,
  // Busy processes (above 50 % of a CPU over two top samples half a second apart): `busy OUTSIDERS OURS`,
  // where ours are in a listed job's process group, in a group whose leader an agent started (a job
  // newer than its agent's marker), or are qpy's own processes.
  `if command -v top >/dev/null 2>&1; then _o=0; _q=0; for _p in $(top -b -n 2 -d 0.5 2>/dev/null | awk '/^ *PID /{n++; for (i = 1; i <= NF; i++) {if ($i == "%CPU") col = i; if ($i == "PID") pc = i}; next} n == 2 && col && pc && $col + 0 > 50 {print $pc}'); do _g=$(sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null | cut -d' ' -f3); case "$_tp" in *" $_g "*) _q=$((_q+1)); continue;; esac; _pp=$(sed 's/.*) //' "/proc/$_g/stat" 2>/dev/null | cut -d' ' -f2); case "$(tr '\\000' ' ' <"/proc/$_p/cmdline" 2>/dev/null) $(tr '\\000' ' ' <"/proc/\${_pp:-0}/cmdline" 2>/dev/null)" in *qpy-master*|*qpy-multiuser*|*/bin/qpy\\ *|*${AGENT_NAME}*) _q=$((_q+1)); continue;; esac; _o=$((_o+1)); done; echo "busy $_o $_q"; fi`,
  ...GPU_LINES,
  `if [ -n "$1" ]; then df -Pk -- "$1" 2>/dev/null | awk 'NR == 2 {print "disk", $3, $2}'; fi`,
].join('\n');

/**
 * The GPU part alone, with the tags its owners need (listed only where there
 * is an `nvidia-smi`): the embedded allocator's probe, with no `top` sample.
 */
const GPU_SCRIPT = ['command -v nvidia-smi >/dev/null 2>&1 || exit 0', ...TAG_LINES, ...GPU_LINES].join('\n');

/** The command line that probes a node (for an SSH exec, or `sh -c` locally). */
export function probeCommand(checkDir: string | null): string {
  return `sh -c ${shellQuote(SCRIPT)} qpy-probe ${shellQuote(checkDir ?? '')}`;
}

/** The command line that lists a node's GPUs and their processes' owners (parseGpuProbe reads it). */
export function gpuProbeCommand(): string {
  return `sh -c ${shellQuote(GPU_SCRIPT)} qpy-probe`;
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
  /** The GPUs `nvidia-smi` listed: [] where the node has no `nvidia-smi`, null where it failed or printed something unexpected. */
  gpuDevices: GpuDevice[] | null;
  /** The processes on those GPUs, each with its owner (gpu-query.ts); null where they are unknown. */
  gpuApps: GpuApp[] | null;
  /** Why the GPUs are unknown (gpuDevices null), in words: `nvidia-smi failed (exit 9): "…"`; else null. */
  gpuProblem: string | null;
}

const GB_IN_KB = 1024 * 1024;
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The GPU part of either probe's output (probeCommand, gpuProbeCommand). */
export type GpuProbe = Pick<ProbeResult, 'gpuDevices' | 'gpuApps' | 'gpuProblem'>;

/** The live jobs listed by `tag` lines, or null without `tags-ok` (the list is then unknown). */
function tagsOf(lines: string[][]): LiveTag[] | null {
  const tags: LiveTag[] = [];
  for (const [key, pid, tag] of lines) {
    const t = key === 'tag' ? parseJobTag(tag ?? '') : null;
    if (t !== null && Number.isSafeInteger(Number(pid)) && Number(pid) > 0) tags.push({ pid: Number(pid), ...t });
  }
  return lines.some(([key]) => key === 'tags-ok') ? tags : null;
}

/** Why nvidia-smi gave no list, from the probe's `gpus-failed STATUS LINE` (absent: the probe stopped short). */
function failedReason(line: string | undefined): string {
  const m = /^gpus-failed ([0-9]{1,3}) ?(.*)$/.exec(line ?? '');
  if (!m) return 'the probe stopped before nvidia-smi answered';
  if (m[1] === '124') return 'nvidia-smi did not answer within 6 s';
  return `nvidia-smi failed (exit ${m[1]})${m[2] ? `: ${quoteLine(m[2])}` : ''}`;
}

/**
 * The GPUs and their processes: none where the probe found no
 * `nvidia-smi`; unknown (null) where it failed, stopped short, or printed
 * something else than GPU_QUERY's shape, with the reason. The processes
 * are unknown where the GPUs are, or where their query failed.
 */
export function parseGpuProbe(text: string): GpuProbe {
  const lines = text.split('\n').map((l) => l.trim());
  const has = (word: string): boolean => lines.includes(word);
  if (!has('gpu-smi')) return { gpuDevices: [], gpuApps: [], gpuProblem: null };
  const list = has('gpus-ok')
    ? readGpuList(lines.flatMap((l) => (/^gpu( |$)/.test(l) ? [l.slice(4)] : [])).join('\n'))
    : { problem: failedReason(lines.find((l) => l.startsWith('gpus-failed '))) };
  if ('problem' in list) return { gpuDevices: null, gpuApps: null, gpuProblem: list.problem };
  const gpuDevices = list.devices;
  if (!has('gpu-apps-ok')) return { gpuDevices, gpuApps: null, gpuProblem: null };
  const tags = tagsOf(lines.map((l) => l.split(/\s+/))) ?? [];
  const jobOf = (group: number): LiveTag | undefined => tags.find((t) => t.pid === group);
  const gpuApps = lines.flatMap((l) => {
    const m = /^gpu-app (\S+) (.*)$/.exec(l);
    return (m && parseGpuApp(m[1]!, m[2]!, jobOf)) || [];
  });
  return { gpuDevices, gpuApps, gpuProblem: null };
}

/** Parse the probe's output; null if it lacks cores, load or memory (the node is then treated as down). */
export function parseProbe(text: string): ProbeResult | null {
  const words = text.split('\n').map((line) => line.trim().split(/\s+/));
  const fields = new Map<string, number[]>();
  for (const [key, ...rest] of words) if (key && key !== 'tag' && !key.startsWith('gpu')) fields.set(key, rest.map(Number));
  const tags = tagsOf(words);
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
  const split = known && Number.isSafeInteger(busyOurs) && tags !== null;
  return {
    cores: cores!,
    load: load!,
    memTotalGB: round1(total! / GB_IN_KB),
    memUsedGB: round1(Math.max(0, total! - avail!) / GB_IN_KB),
    busy: known ? busyOthers! + (Number.isSafeInteger(busyOurs) ? busyOurs! : 0) : null,
    outsiders: split ? busyOthers! : null,
    tags,
    disk: Number.isFinite(used) && Number.isFinite(size) && size! > 0 ? { usedGB: used! / GB_IN_KB, totalGB: size! / GB_IN_KB } : null,
    ...parseGpuProbe(text),
  };
}

/**
 * What a probe's GPU part sets on its node (allocator/state.ts
 * setNodeMetrics): the GPUs, why they are unknown, and the outsiders' among
 * them, as `ours` tells whose processes are qpy's jobs. Where the processes
 * are unknown the outsiders are left as they were (absent); where the GPUs
 * are, there are none.
 */
export function gpuMetrics(
  p: GpuProbe,
  ours: (owner: GpuApp['owner']) => boolean,
): Partial<GpuFacts> & Pick<GpuFacts, 'gpuDevices' | 'gpuProblem'> {
  if (p.gpuDevices === null) return { gpuDevices: null, gpuOutsiders: [], gpuProblem: p.gpuProblem };
  if (p.gpuApps === null) return { gpuDevices: p.gpuDevices, gpuProblem: null };
  return { gpuDevices: p.gpuDevices, gpuOutsiders: gpuOutsiders(p.gpuDevices, p.gpuApps, ours), gpuProblem: null };
}
