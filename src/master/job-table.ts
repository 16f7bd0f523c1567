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
import { appendSlot, compactSlot, endOf, expand, isPlainQueued, members, setEnd, withIndex, type Group, type Slot } from './job-group.js';

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
    return slot === 0 ? undefined : typeof slot === 'object' ? slot.state.type : endOf(g, id - g.first) > 0 ? 'undone' : 'queue';
  }

  /** Is `id` a compact member still queued (one slot, no Job of its own)? */
  isCompactQueued(id: number): boolean {
    if (this.singles.has(id)) return false;
    const g = this.find(id);
    if (g === undefined) return false;
    const slot = g.slots[id - g.first]!;
    return slot !== 0 && typeof slot !== 'object' && endOf(g, id - g.first) === 0;
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
    const ended = endOf(g, i);
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

  /**
   * The last ID of the run of IDs around `id` whose jobs all belong to its
   * array or load (`id` itself for a job kept whole): a dispatch pass that
   * finds the array full, or waiting, skips them at once.
   */
  runEnd(id: number): number {
    if (this.singles.has(id)) return id;
    const g = this.find(id);
    return g === undefined ? id : g.first + g.slots.length - 1;
  }

  /** The dependencies (`--after`, `--afterok`) of a job, without building it: for a compact member, its group's (the same arrays). */
  depsOf(id: number): Pick<JobSpec, 'after' | 'afterok'> | undefined {
    const single = this.singles.get(id);
    if (single !== undefined) return single.spec;
    const g = this.find(id);
    if (g === undefined) return undefined;
    const slot = g.slots[id - g.first]!;
    return slot === 0 ? undefined : typeof slot === 'object' ? slot.spec : g.base;
  }

  /** The template of the array or load `groupId` as its compact members were added with it (for the store), if any group holds it. */
  templateOf(groupId: number): GroupTemplate | undefined {
    const g = this.find(groupId);
    if (g === undefined || g.base.group.id !== groupId) return undefined;
    return { spec: { ...g.base, group: withIndex(g.base.group, g.base.group.index - (g.first - groupId)) }, queuedAt: g.queuedAt };
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
    if (last !== undefined && slot !== null && appendSlot(last, job.id, slot, this.maxSingle)) {
      this.count++;
      return;
    }
    const g = job.spec.group;
    if (g === undefined || !isPlainQueued(job)) {
      this.set(job);
      return;
    }
    const slots: Slot[] = [g.kind === 'array' ? 1 : job.spec.command];
    this.groups.push({ first: job.id, slots, base: { ...job.spec, group: g }, queuedAt: job.queuedAt, live: 1, ends: null });
    this.count++;
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
    const joins = last !== undefined && last.base.group.id === t.spec.group.id && last.queuedAt === t.queuedAt;
    if (joins && appendSlot(last, id, slot, this.maxSingle)) g = last;
    else {
      const base = { ...t.spec, group: withIndex(t.spec.group, t.spec.group.index + (id - t.spec.group.id)) };
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

  /** Each job's ID and status, in no set order, building no Job (the event log's walk at start over a million jobs). */
  forEachStatus(fn: (id: number, status: Job['state']['type']) => void): void {
    for (const job of this.singles.values()) fn(job.id, job.state.type);
    for (const g of this.groups) {
      for (let i = 0; i < g.slots.length; i++) {
        const slot = g.slots[i]!;
        if (slot !== 0) fn(g.first + i, typeof slot === 'object' ? slot.state.type : endOf(g, i) > 0 ? 'undone' : 'queue');
      }
    }
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
