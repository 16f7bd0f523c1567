/**
 * Sets of job IDs that stay small when they hold a million: runs of
 * consecutive IDs (what `kill` and `clean` of an array commit, one
 * statement each), and a bitmap for "is this ID in the set" over a queue.
 */
export { inSortedRuns } from '../protocol/selector.js';

/** Runs [first, last] built from IDs met in ascending order while walking the jobs there are. */
export class RunBuilder {
  readonly runs: [number, number][] = [];
  count = 0;
  private open = false;

  /** `id` is in the set. */
  add(id: number): void {
    this.count++;
    const last = this.runs[this.runs.length - 1];
    if (this.open && last !== undefined) last[1] = id;
    else this.runs.push([id, id]);
    this.open = true;
  }

  /** A job that is not in the set was met: the next ID added starts a new run (IDs of no job may sit inside a run). */
  skip(): void {
    this.open = false;
  }
}

/** A set of IDs below `bound`: a bitmap when that is small enough (a Set of a million numbers is big and slow), a Set otherwise. */
export class IdSet {
  private readonly bits: Uint8Array | null;
  private readonly set = new Set<number>();
  size = 0;

  constructor(bound: number) {
    this.bits = bound < 1 << 30 ? new Uint8Array((bound >> 3) + 1) : null;
  }

  has(id: number): boolean {
    if (this.bits !== null && id >= 0 && id < this.bits.length * 8) return (this.bits[id >> 3]! & (1 << (id & 7))) !== 0;
    return this.set.has(id);
  }

  add(id: number): void {
    if (this.has(id)) return;
    this.size++;
    if (this.bits !== null && id >= 0 && id < this.bits.length * 8) this.bits[id >> 3]! |= 1 << (id & 7);
    else this.set.add(id);
  }
}
