/**
 * How JobTable keeps the members of an array or a load compact: a Group is
 * a run of IDs whose plainly queued members are one slot each (a load's
 * command, or 1 for an array's), built into Job objects only when read.
 * Here: the Group record, how a slot becomes a Job, and which jobs read
 * back from the store may join a group as a slot.
 */
import type { Job, JobSpec } from '../protocol/job.js';
import { QUEUED } from './lifecycle.js';

/** A full job; a compact member (a load's command, or 1 for an array's); 0 for a job gone. */
export type Slot = Job | string | 1 | 0;

export interface Group {
  /** The ID of slots[0]; the group holds IDs first … first + slots.length - 1. */
  first: number;
  slots: Slot[];
  /** The spec its compact members share: their group.index is base.group.index + their offset. */
  base: JobSpec & { group: NonNullable<JobSpec['group']> };
  queuedAt: number;
  live: number;
  /** When each compact member became undone (`qpy kill`), 0 while it is queued; null until one is. */
  ends: Float64Array | null;
}

/** Gaps (cleaned jobs) a group may bridge with empty slots when it is rebuilt from the store. */
const MAX_GAP = 64;

/** `group` with its index moved to `index` (cap kept only when set: stored specs stay as they were). */
export function withIndex(b: Group['base']['group'], index: number): Group['base']['group'] {
  return b.cap === undefined ? { id: b.id, index, kind: b.kind } : { id: b.id, index, kind: b.kind, cap: b.cap };
}

/** Add `slot` as job `id` at the end of `g` if it may (in ID order, bridging a short gap of gone jobs); false if not. */
export function appendSlot(g: Group, id: number, slot: string | 1, maxSingle: number): boolean {
  const end = g.first + g.slots.length;
  if (id < end || id - end > MAX_GAP || maxSingle >= end) return false;
  while (g.first + g.slots.length < id) g.slots.push(0);
  g.slots.push(slot);
  g.live++;
  return true;
}

export function* members(g: Group): Generator<Job> {
  const slots = g.slots;
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    if (slot !== 0) yield expand(g, i, slot);
  }
}

/** Note that member `i` of `g` became undone at `at` (the array of end times grows with the group as it is rebuilt). */
export function setEnd(g: Group, i: number, at: number): void {
  if (g.ends === null || g.ends.length <= i) {
    const grown = new Float64Array(Math.max(g.slots.length, i + 1, (g.ends?.length ?? 0) * 2));
    if (g.ends !== null) grown.set(g.ends);
    g.ends = grown;
  }
  g.ends[i] = at;
}

/** The end time of member `i` (0: still queued). */
export const endOf = (g: Group, i: number): number => (g.ends !== null && i < g.ends.length ? g.ends[i]! : 0);

/** The Job that slot `i` of `g` stands for (a new object each time for a compact member). */
export function expand(g: Group, i: number, slot: Exclude<Slot, 0>): Job {
  if (typeof slot === 'object') return slot;
  const ended = endOf(g, i);
  return {
    id: g.first + i,
    spec: { ...g.base, command: slot === 1 ? g.base.command : slot, group: withIndex(g.base.group, g.base.group.index + i) },
    queuedAt: g.queuedAt,
    state: ended > 0 ? { type: 'undone', endedAt: ended } : QUEUED,
  };
}

export function isPlainQueued(job: Job): boolean {
  return job.state.type === 'queue' && job.state.held === undefined && job.attempts === undefined && job.spec.copy === undefined;
}

const sameRanges = (a: JobSpec['after'], b: JobSpec['after']): boolean => a === b || JSON.stringify(a) === JSON.stringify(b);

/** The slot `job` takes in group `g` if it is a plainly queued member sharing g's spec, else null. */
export function compactSlot(g: Group, job: Job): string | 1 | null {
  const s = job.spec;
  const b = g.base;
  if (!isPlainQueued(job) || s.group === undefined || job.queuedAt !== g.queuedAt) return null;
  const bg = b.group;
  if (s.group.id !== bg.id || s.group.kind !== bg.kind || s.group.cap !== bg.cap || s.group.index !== bg.index + (job.id - g.first))
    return null;
  if (s.cwd !== b.cwd || s.cores !== b.cores || s.memGB !== b.memGB || s.attrs !== b.attrs) return null;
  if (s.priority !== b.priority || s.retries !== b.retries || s.notify !== b.notify) return null;
  if (s.name !== b.name || s.out !== b.out || s.err !== b.err) return null;
  if (s.time !== b.time || s.memLimit !== b.memLimit || s.gpus !== b.gpus) return null;
  if (!sameRanges(s.after, b.after) || !sameRanges(s.afterok, b.afterok)) return null;
  if (b.group.kind === 'array') return s.command === b.command ? 1 : null;
  return s.command;
}
