/**
 * The queue of queued job IDs, head first, kept as runs of consecutive IDs:
 * a million-job array or load is one run, jobs submitted one by one extend
 * the last run, and starting the job at the head is O(1). A dispatch pass
 * walks it without copying it, and can skip the rest of a run at once (the
 * members of a full capped array). Operations that find an ID by value
 * (remove, indexOf) cost the number of runs ahead of it, not of jobs.
 */
export class JobQueue implements Iterable<number> {
  /** Run i holds starts[i] … ends[i]; runs before `head` are spent (empty). */
  private starts: number[] = [];
  private ends: number[] = [];
  private head = 0;
  private count = 0;

  constructor(ids: Iterable<number> = []) {
    for (const id of ids) this.push(id);
  }

  /** How many jobs are queued. */
  get length(): number {
    return this.count;
  }

  /** How many runs of consecutive IDs hold them (for tests and benches). */
  get runCount(): number {
    return this.starts.length - this.head;
  }

  /** Queue `id` at the tail. */
  push(id: number): void {
    this.pushRun(id, id);
  }

  /** Queue `first` … `last` at the tail. */
  pushRun(first: number, last: number): void {
    if (last < first) return;
    const n = this.starts.length;
    if (n > this.head && this.ends[n - 1] === first - 1) this.ends[n - 1] = last;
    else {
      this.starts.push(first);
      this.ends.push(last);
    }
    this.count += last - first + 1;
  }

  /** Queue `id` at the head. */
  unshift(id: number): void {
    if (this.count > 0 && this.starts[this.head] === id + 1) this.starts[this.head] = id;
    else if (this.head > 0) {
      this.head--;
      this.starts[this.head] = id;
      this.ends[this.head] = id;
    } else {
      this.starts.unshift(id);
      this.ends.unshift(id);
    }
    this.count++;
  }

  /** Queue `first` … `last` so that `at` jobs are ahead of them (0: the head; length: the tail). */
  insertRun(at: number, first: number, last: number): void {
    if (at >= this.count) {
      this.pushRun(first, last);
      return;
    }
    const r = this.splitAt(at);
    this.starts.splice(r, 0, first);
    this.ends.splice(r, 0, last);
    this.count += last - first + 1;
  }

  /** Take `id` out of the queue; false if it is not there. */
  remove(id: number): boolean {
    for (let r = this.head; r < this.starts.length; r++) {
      const s = this.starts[r]!;
      const e = this.ends[r]!;
      if (id < s || id > e) continue;
      this.count--;
      if (s === e) this.dropRun(r);
      else if (id === s) this.starts[r] = s + 1;
      else if (id === e) this.ends[r] = e - 1;
      else {
        this.starts.splice(r + 1, 0, id + 1);
        this.ends.splice(r + 1, 0, e);
        this.ends[r] = id - 1;
      }
      return true;
    }
    return false;
  }

  /** Take out every queued ID `leaving` holds, in one walk. How many were. */
  removeWhere(leaving: (id: number) => boolean): number {
    const kept = new JobQueue();
    for (const id of this) if (!leaving(id)) kept.push(id);
    const gone = this.count - kept.count;
    this.starts = kept.starts;
    this.ends = kept.ends;
    this.head = 0;
    this.count = kept.count;
    return gone;
  }

  /** A new queue of the IDs for which `keep` holds, in order. */
  filter(keep: (id: number) => boolean): JobQueue {
    const kept = new JobQueue();
    for (const id of this) if (keep(id)) kept.push(id);
    return kept;
  }

  /** How many jobs are ahead of `id`, or -1 if it is not queued. */
  indexOf(id: number): number {
    let ahead = 0;
    for (let r = this.head; r < this.starts.length; r++) {
      const s = this.starts[r]!;
      if (id >= s && id <= this.ends[r]!) return ahead + id - s;
      ahead += this.ends[r]! - s + 1;
    }
    return -1;
  }

  includes(id: number): boolean {
    return this.indexOf(id) >= 0;
  }

  toArray(): number[] {
    return [...this];
  }

  [Symbol.iterator](): Iterator<number> {
    return this.walk();
  }

  /**
   * The queued IDs, head first, as they were when the walk began (runs
   * changed meanwhile are not seen: callers check each job's state). Its
   * `skipThrough(id)` skips the rest of the current run up to `id`.
   */
  walk(): QueueWalk {
    return new QueueWalk(this.starts.slice(this.head), this.ends.slice(this.head));
  }

  /** The IDs from the tail towards the head. */
  *fromTail(): Generator<number> {
    for (let r = this.starts.length - 1; r >= this.head; r--) for (let id = this.ends[r]!; id >= this.starts[r]!; id--) yield id;
  }

  /** Make position `at` (0 < at < length) the start of a run; its index. */
  private splitAt(at: number): number {
    let ahead = 0;
    for (let r = this.head; r < this.starts.length; r++) {
      const len = this.ends[r]! - this.starts[r]! + 1;
      if (at === ahead) return r;
      if (at < ahead + len) {
        const cut = this.starts[r]! + (at - ahead);
        this.starts.splice(r + 1, 0, cut);
        this.ends.splice(r + 1, 0, this.ends[r]!);
        this.ends[r] = cut - 1;
        return r + 1;
      }
      ahead += len;
    }
    return this.starts.length;
  }

  private dropRun(r: number): void {
    if (r === this.head) {
      this.head++;
      // Spent runs at the front are dropped once they outnumber the live ones.
      if (this.head > 64 && this.head * 2 > this.starts.length) {
        this.starts = this.starts.slice(this.head);
        this.ends = this.ends.slice(this.head);
        this.head = 0;
      }
    } else {
      this.starts.splice(r, 1);
      this.ends.splice(r, 1);
    }
  }
}

/** A walk over a queue's IDs, head first (see JobQueue.walk). */
export class QueueWalk implements IterableIterator<number> {
  private run = 0;
  private next_: number;

  constructor(
    private readonly starts: number[],
    private readonly ends: number[],
  ) {
    this.next_ = starts[0] ?? 0;
  }

  next(): IteratorResult<number> {
    while (this.run < this.starts.length) {
      if (this.next_ <= this.ends[this.run]!) return { done: false, value: this.next_++ };
      this.run++;
      this.next_ = this.starts[this.run] ?? 0;
    }
    return { done: true, value: undefined };
  }

  /** The last ID of the current run of consecutive IDs (valid after `next` returned one). */
  get runLast(): number {
    return this.ends[this.run] ?? 0;
  }

  /** Skip the IDs up to `id` that remain in the current run. */
  skipThrough(id: number): void {
    if (this.run < this.starts.length && id >= this.next_) this.next_ = id + 1;
  }

  [Symbol.iterator](): QueueWalk {
    return this;
  }
}
