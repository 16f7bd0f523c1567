/**
 * The administrator's `limits` file and the cluster's limits it sets: the
 * longest time limit a job may have, and whether `-m` must, may or must not
 * limit a job's resident memory. qpy-multiuser checks every demand against
 * them twice: at submission (`feasible`: a job above them is refused with
 * the reason, and the master learns the limits to apply) and at grant time
 * (`request`: a job queued before the limits changed is refused its slot).
 *
 * File format (`#` comments, blank lines skipped; a later line wins):
 *   max_time LIMIT             as `sub -t` takes it (none: no maximum)
 *   memory_limits on|required|off
 * `on` (the default): -m limits memory unless a user sets `memLimit off`;
 * `required`: always, and a job asking otherwise is refused; `off`: never.
 * A missing file means no maximum time and `on`.
 */
import { formatTimeLimit, parseTimeLimit } from '../protocol/time-limit.js';
import { MEMORY_POLICIES, type ClusterLimits } from '../protocol/cluster.js';
import { configLines } from './config-lines.js';

export type { ClusterLimits };
export type MemoryPolicy = ClusterLimits['memoryLimits'];

export const DEFAULT_LIMITS: ClusterLimits = { maxTime: null, memoryLimits: 'on' };

export type LimitsParse = { ok: true; limits: ClusterLimits } | { ok: false; line: number; message: string };

export function parseLimitsFile(text: string): LimitsParse {
  const limits: ClusterLimits = { ...DEFAULT_LIMITS };
  for (const l of configLines(text)) {
    const fail = (message: string): LimitsParse => ({ ok: false, line: l.lineNo, message: `line ${l.lineNo}: ${message}` });
    const [key, value, ...rest] = l.words;
    if (value === undefined || rest.length > 0) return fail(`expected KEY VALUE, got "${l.content}"`);
    if (key === 'max_time') {
      const t = parseTimeLimit(value);
      if (!t.ok) return fail(`max_time: ${t.message}`);
      limits.maxTime = t.seconds;
    } else if (key === 'memory_limits') {
      if (!(MEMORY_POLICIES as readonly string[]).includes(value)) return fail(`memory_limits is on, required or off, not "${value}"`);
      limits.memoryLimits = value as MemoryPolicy;
    } else return fail(`unknown key "${key}" (max_time, memory_limits)`);
  }
  return { ok: true, limits };
}

/** What a job asks for that the limits judge. */
export interface LimitedDemand {
  memGB: number;
  /** Its time limit in seconds; absent: none (at submission: the maximum will be given). */
  time?: number;
  /** Whether -m limits its memory. */
  memLimit?: boolean;
}

/**
 * Why the limits refuse a demand, or null. At submission (`atGrant` false)
 * a job without a time limit is fine (the master gives it the maximum); at
 * grant time it must have one within the maximum.
 */
export function limitsProblem(limits: ClusterLimits, d: LimitedDemand, atGrant: boolean): string | null {
  if (limits.maxTime !== null) {
    const max = formatTimeLimit(limits.maxTime);
    if (d.time === undefined && atGrant) return `it has no time limit, and this cluster's maximum is ${max}`;
    if (d.time !== undefined && d.time > limits.maxTime)
      return `its time limit ${formatTimeLimit(d.time)} is above this cluster's maximum, ${max}`;
  }
  if (limits.memoryLimits === 'required' && d.memGB > 0 && d.memLimit !== true)
    return 'memory limits are required on this cluster, and this job asks for none (qpy config memLimit on)';
  return null;
}

export const sameLimits = (a: ClusterLimits, b: ClusterLimits): boolean => a.maxTime === b.maxTime && a.memoryLimits === b.memoryLimits;

/** The limits in words, for status: `maximum time 1-00:00:00; memory limits required`. */
export function describeLimits(limits: ClusterLimits): string {
  const time = limits.maxTime === null ? 'no maximum time' : `maximum time ${formatTimeLimit(limits.maxTime)}`;
  const mem = { on: 'memory limits on (users may turn them off)', required: 'memory limits required', off: 'memory limits off' };
  return `${time}; ${mem[limits.memoryLimits]}`;
}
