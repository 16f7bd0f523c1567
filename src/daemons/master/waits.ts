/**
 * `qpy wait`: requests that are answered only once every job they name is
 * final. The master tells this module each time a job's final state is
 * written, and again once that write is committed; nothing polls.
 */
export interface Waits {
  /** Resolves once none of `ids` is in `pending` any more (the ids that are not final now). */
  until(pending: Iterable<number>): Promise<void>;
  /**
   * A job's final state was just written, not committed yet. True when some
   * request now waits only for jobs in that state, so that their commit
   * unblocks a reply: commit at once rather than with the next lazy batch
   * (the last jobs of an array that end together, as well as a job alone).
   */
  written(jobId: number): boolean;
  /** A job's final state is committed. */
  final(jobId: number): void;
}

interface Waiter {
  /** The jobs not final yet (committed). */
  left: Set<number>;
  /** Those of `left` whose final state is written and not yet committed. */
  written: Set<number>;
  done(): void;
}

export function createWaits(): Waits {
  const waiters = new Set<Waiter>();
  return {
    until(pending) {
      const left = new Set(pending);
      if (left.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.add({ left, written: new Set(), done: resolve }));
    },
    written(jobId) {
      let unblocks = false;
      for (const w of waiters) {
        if (!w.left.has(jobId)) continue;
        w.written.add(jobId);
        if (w.written.size === w.left.size) unblocks = true;
      }
      return unblocks;
    },
    final(jobId) {
      for (const w of waiters) {
        w.written.delete(jobId);
        if (!w.left.delete(jobId) || w.left.size > 0) continue;
        waiters.delete(w);
        w.done();
      }
    },
  };
}
