/**
 * Probing a node (reference §3.2, done better): one small POSIX sh script,
 * run on the node over SSH (or locally for `localhost`), prints the node's
 * cores, 5-minute load, memory, the processes busy above 50 % of a CPU (from
 * two `top` samples half a second apart, so the figure is current) and,
 * when asked, a directory's disk usage. Pure text in, facts out.
 */
import { shellQuote } from './wrapper.js';

const SCRIPT = [
  'echo "cores $(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"',
  'read _a _b _c < /proc/loadavg && echo "load $_b"',
  `awk '/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2} END{print "mem", t+0, a+0}' /proc/meminfo`,
  `if command -v top >/dev/null 2>&1; then top -b -n 2 -d 0.5 2>/dev/null | awk '/^ *PID /{n++; for (i = 1; i <= NF; i++) if ($i == "%CPU") col = i; next} n == 2 && col && $col + 0 > 50 {c++} END{print "busy", c + 0}'; fi`,
  `if [ -n "$1" ]; then df -Pk -- "$1" 2>/dev/null | awk 'NR == 2 {print "disk", $3, $2}'; fi`,
].join('\n');

/** The command line that probes a node (for an SSH exec, or `sh -c` locally). */
export function probeCommand(checkDir: string | null): string {
  return `sh -c ${shellQuote(SCRIPT)} qpy-probe ${shellQuote(checkDir ?? '')}`;
}

export interface ProbeResult {
  cores: number;
  load: number;
  memTotalGB: number;
  memUsedGB: number;
  /** Processes using more than half a CPU, or null when the node has no `top`. */
  busy: number | null;
  disk: { usedGB: number; totalGB: number } | null;
}

const GB_IN_KB = 1024 * 1024;
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Parse the probe's output; null if it lacks cores, load or memory (the node is then treated as down). */
export function parseProbe(text: string): ProbeResult | null {
  const fields = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key) fields.set(key, rest.map(Number));
  }
  const [cores] = fields.get('cores') ?? [];
  const [load] = fields.get('load') ?? [];
  const [total, avail] = fields.get('mem') ?? [];
  if (!Number.isSafeInteger(cores) || cores! < 1 || !Number.isFinite(load) || !Number.isFinite(total) || !Number.isFinite(avail) || total! <= 0) return null;
  const [busy] = fields.get('busy') ?? [];
  const [used, size] = fields.get('disk') ?? [];
  return {
    cores: cores!,
    load: load!,
    memTotalGB: round1(total! / GB_IN_KB),
    memUsedGB: round1(Math.max(0, total! - avail!) / GB_IN_KB),
    busy: Number.isSafeInteger(busy) ? busy! : null,
    disk: Number.isFinite(used) && Number.isFinite(size) && size! > 0 ? { usedGB: used! / GB_IN_KB, totalGB: size! / GB_IN_KB } : null,
  };
}
