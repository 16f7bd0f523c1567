/**
 * The master's jobs by ID, in ID (submission) order, kept small enough for a
 * million queued jobs: members of an array or a load that are still plainly
 * queued are not objects but one slot each in their group (the command of a
 * load's line, or nothing at all for an array), and become Job objects only
 * when read. A job written back (started, held…) takes its slot as a full
 * Job. A compact member removed from the queue (`qpy kill`) stays compact:
 * its group notes when it became undone. Every other job is kept as is.
 *
 * Reads build a new object each time for a compact member: callers compare
 * jobs by ID and state, never by identity.
 */
import type { CompactRow, GroupTemplate, Job, JobSpec } from '../protocol/job.js';
export type { CompactRow, GroupTemplate } from '../protocol/job.js';
import { QUEUED } from './lifecycle.js';

/** A full job; a compact member (a load's command, or 1 for an array's); 0 for a job gone. */
type Slot = Job | string | 1 | 0;

interface Group {
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

export class JobTable {
  private singles = new Map<number, Job>();
  private readonly groups: Group[] = [];
  private count = 0;
  /** The largest ID among singles (they are added in ID order, so a merge by ID keeps order). */
  private maxSingle = 0;
  /** Set when a single was added below the largest (only a store read out of order does that): sorted before the next walk. */
  private unordered = false;

  get size(): number {
    return this.count;
  }

  /** How many jobs are held compact (for tests and benches). */
  get compactSize(): number {
    let n = 0;
    for (const g of this.groups) for (const slot of g.slots) if (slot !== 0 && typeof slot !== 'object') n++;
    return n;
  }

  /** The group whose ID range holds `id`, if any (binary search: groups are in ID order). */
  private find(id: number): Group | undefined {
    let lo = 0;
    let hi = this.groups.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const g = this.groups[mid]!;
      if (id < g.first) hi = mid - 1;
      else if (id >= g.first + g.slots.length) lo = mid + 1;
      else return g;
    }
    return undefined;
  }

  get(id: number): Job | undefined {
    const single = this.singles.get(id);
    if (single !== undefined) return single;
    const g = this.find(id);
    if (g === undefined) return undefined;
    const slot = g.slots[id - g.first]!;
    return slot === 0 ? undefined : expand(g, id - g.first, slot);
  }

  /** A job's status without building it (undefined: no such job). */
  statusOf(id: number): Job['state']['type'] | undefined {
    const single = this.singles.get(id);
    if (single !== undefined) return single.state.type;
    const g = this.find(id);
    if (g === undefined) return undefined;
    const slot = g.slots[id - g.first]!;
    return slot === 0 ? undefined : typeof slot === 'object' ? slot.state.type : (g.ends?.[id - g.first] ?? 0) > 0 ? 'undone' : 'queue';
  }

  /** Is `id` a compact member still queued (one slot, no Job of its own)? */
  isCompactQueued(id: number): boolean {
    if (this.singles.has(id)) return false;
    const g = this.find(id);
    if (g === undefined) return false;
    const slot = g.slots[id - g.first]!;
    return slot !== 0 && typeof slot !== 'object' && (g.ends?.[id - g.first] ?? 0) === 0;
  }

  /** A compact queued member becomes undone at `at`, and stays compact; false if `id` is no compact queued member. */
  unqueueCompact(id: number, at: number): boolean {
    if (!this.isCompactQueued(id)) return false;
    const g = this.find(id)!;
    setEnd(g, id - g.first, at);
    return true;
  }

  /** How the store keeps `id` if it is compact (see CompactRow), else null. */
  compactRow(id: number): CompactRow | null {
    if (this.singles.has(id)) return null;
    const g = this.find(id);
    if (g === undefined) return null;
    const i = id - g.first;
    const slot = g.slots[i]!;
    if (slot === 0 || typeof slot === 'object') return null;
    const ended = g.ends?.[i] ?? 0;
    return { group: g.base.group.id, command: slot === 1 ? null : slot, endedAt: ended > 0 ? ended : null };
  }

  /** The array or load a job belongs to (its group ID), without building it. */
  groupOf(id: number): number | undefined {
    const single = this.singles.get(id);
    if (single !== undefined) return single.spec.group?.id;
    const g = this.find(id);
    if (g === undefined) return undefined;
    const slot = g.slots[id - g.first]!;
    return slot === 0 ? undefined : typeof slot === 'object' ? slot.spec.group?.id : g.base.group.id;
  }

  /** The template of the array or load `groupId` as its compact members were added with it (for the store), if any group holds it. */
  templateOf(groupId: number): GroupTemplate | undefined {
    const g = this.find(groupId);
    if (g === undefined || g.base.group.id !== groupId) return undefined;
    const b = g.base.group;
    const index = b.index - (g.first - groupId);
    return {
      spec: { ...g.base, group: b.cap === undefined ? { id: b.id, index, kind: b.kind } : { id: b.id, index, kind: b.kind, cap: b.cap } },
      queuedAt: g.queuedAt,
    };
  }

  has(id: number): boolean {
    if (this.singles.has(id)) return true;
    const g = this.find(id);
    return g !== undefined && g.slots[id - g.first] !== 0;
  }

  /** Add or replace a job. A new job's ID must be above every ID held (IDs only grow). */
  set(job: Job): void {
    const g = this.find(job.id);
    if (g !== undefined) {
      const i = job.id - g.first;
      if (g.slots[i] === 0) {
        g.live++;
        this.count++;
      }
      g.slots[i] = job;
      if (g.ends !== null && i < g.ends.length) g.ends[i] = 0;
      return;
    }
    if (!this.singles.has(job.id)) {
      this.count++;
      if (job.id < this.maxSingle) this.unordered = true;
      this.maxSingle = Math.max(this.maxSingle, job.id);
    }
    this.singles.set(job.id, job);
  }

  delete(id: number): boolean {
    if (this.singles.delete(id)) {
      this.count--;
      return true;
    }
    const g = this.find(id);
    if (g === undefined || g.slots[id - g.first] === 0) return false;
    g.slots[id - g.first] = 0;
    this.count--;
    if (--g.live === 0) {
      g.slots = []; // its range is empty now: nothing found there any more
      g.ends = null;
    }
    return true;
  }

  /**
   * Add the members of a new array or load, all plainly queued, with IDs
   * from `first` on (above every ID held): one slot each, `commands[i]` for
   * a load's job i (the array is kept, not copied), 1 for an array's.
   * `base.group.index` is the first member's index.
   */
  addGroup(first: number, base: Group['base'], queuedAt: number, slots: (string | 1)[]): void {
    if (slots.length === 0) return;
    this.groups.push({ first, slots, base, queuedAt, live: slots.length, ends: null });
    this.count += slots.length;
  }

  /**
   * Add a job read back from the store (in ID order): a plainly queued
   * member of an array or a load joins the group of the members just before
   * it when it shares their spec, else starts a group; others are kept whole.
   */
  restore(job: Job): void {
    const last = this.groups[this.groups.length - 1];
    const slot = last !== undefined ? compactSlot(last, job) : null;
    if (last !== undefined && slot !== null) {
      const end = last.first + last.slots.length;
      if (job.id >= end && job.id - end <= MAX_GAP && this.maxSingle < end) {
        while (last.first + last.slots.length < job.id) last.slots.push(0);
        last.slots.push(slot);
        last.live++;
        this.count++;
        return;
      }
    }
    const g = job.spec.group;
    if (g !== undefined && isPlainQueued(job)) {
      const base = { ...job.spec, group: g };
      this.groups.push({
        first: job.id,
        slots: [g.kind === 'array' ? 1 : job.spec.command],
        base,
        queuedAt: job.queuedAt,
        live: 1,
        ends: null,
      });
      this.count++;
      return;
    }
    this.set(job);
  }

  /**
   * Add a compact member read back from the store (in ID order, above every
   * ID held): it joins the group of the members just before it when it is
   * of the same array or load, else starts a group. `t`: its group's template.
   */
  restoreCompact(id: number, t: GroupTemplate, row: CompactRow): void {
    const last = this.groups[this.groups.length - 1];
    const slot: string | 1 = t.spec.group.kind === 'array' ? 1 : (row.command ?? t.spec.command);
    let g: Group;
    const end = last === undefined ? 0 : last.first + last.slots.length;
    if (
      last !== undefined &&
      last.base.group.id === t.spec.group.id &&
      last.queuedAt === t.queuedAt &&
      id >= end &&
      id - end <= MAX_GAP &&
      this.maxSingle < end
    ) {
      g = last;
      while (g.first + g.slots.length < id) g.slots.push(0);
      g.slots.push(slot);
      g.live++;
    } else {
      const tg = t.spec.group;
      const index = tg.index + (id - tg.id);
      const base = {
        ...t.spec,
        group: tg.cap === undefined ? { id: tg.id, index, kind: tg.kind } : { id: tg.id, index, kind: tg.kind, cap: tg.cap },
      };
      g = { first: id, slots: [slot], base, queuedAt: t.queuedAt, live: 1, ends: null };
      this.groups.push(g);
    }
    this.count++;
    if (row.endedAt !== null) setEnd(g, id - g.first, row.endedAt);
  }

  /** The job a compact member stored as `row` of the group with template `t` stands for. */
  static expandCompact(id: number, t: GroupTemplate, row: CompactRow): Job {
    const one = new JobTable();
    one.restoreCompact(id, t, row);
    return one.get(id)!;
  }

  /** Every job, in ID order. */
  *values(): Generator<Job> {
    if (this.unordered) {
      this.singles = new Map([...this.singles].sort((a, b) => a[0] - b[0]));
      this.unordered = false;
    }
    let gi = 0;
    const groups = this.groups;
    for (const job of this.singles.values()) {
      while (gi < groups.length && groups[gi]!.first < job.id) yield* members(groups[gi++]!);
      yield job;
    }
    while (gi < groups.length) yield* members(groups[gi++]!);
  }

  *keys(): Generator<number> {
    for (const job of this.values()) yield job.id;
  }
}

function* members(g: Group): Generator<Job> {
  const slots = g.slots;
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    if (slot !== 0) yield expand(g, i, slot);
  }
}

/** Note that member `i` of `g` became undone at `at` (the array of end times grows with the group as it is rebuilt). */
function setEnd(g: Group, i: number, at: number): void {
  if (g.ends === null || g.ends.length <= i) {
    const grown = new Float64Array(Math.max(g.slots.length, i + 1, (g.ends?.length ?? 0) * 2));
    if (g.ends !== null) grown.set(g.ends);
    g.ends = grown;
  }
  g.ends[i] = at;
}

function expand(g: Group, i: number, slot: Exclude<Slot, 0>): Job {
  if (typeof slot === 'object') return slot;
  const b = g.base.group;
  const group =
    b.cap === undefined ? { id: b.id, index: b.index + i, kind: b.kind } : { id: b.id, index: b.index + i, kind: b.kind, cap: b.cap };
  const ended = g.ends !== null && i < g.ends.length ? g.ends[i]! : 0;
  return {
    id: g.first + i,
    spec: { ...g.base, command: slot === 1 ? g.base.command : slot, group },
    queuedAt: g.queuedAt,
    state: ended > 0 ? { type: 'undone', endedAt: ended } : QUEUED,
  };
}

function isPlainQueued(job: Job): boolean {
  return job.state.type === 'queue' && job.state.held === undefined && job.attempts === undefined && job.spec.copy === undefined;
}

const sameRanges = (a: JobSpec['after'], b: JobSpec['after']): boolean => a === b || JSON.stringify(a) === JSON.stringify(b);

/** The slot `job` takes in group `g` if it is a plainly queued member sharing g's spec, else null. */
function compactSlot(g: Group, job: Job): string | 1 | null {
  const s = job.spec;
  const b = g.base;
  if (!isPlainQueued(job) || s.group === undefined || job.queuedAt !== g.queuedAt) return null;
  if (
    s.group.id !== b.group.id ||
    s.group.kind !== b.group.kind ||
    s.group.cap !== b.group.cap ||
    s.group.index !== b.group.index + (job.id - g.first)
  )
    return null;
  if (
    s.cwd !== b.cwd ||
    s.cores !== b.cores ||
    s.memGB !== b.memGB ||
    s.attrs !== b.attrs ||
    s.priority !== b.priority ||
    s.retries !== b.retries
  )
    return null;
  if (!sameRanges(s.after, b.after) || !sameRanges(s.afterok, b.afterok)) return null;
  if (b.group.kind === 'array') return s.command === b.command ? 1 : null;
  return s.command;
}
