/**
 * `qpy wait`: requests that are answered only once every job they name is
 * final. The master tells this module each time a job's final state is
 * written; nothing polls.
 */
export interface Waits {
  /** Resolves once none of `ids` is in `pending` any more (the ids that are not final now). */
  until(pending: Iterable<number>): Promise<void>;
  /** A job's final state was just written. */
  final(jobId: number): void;
  /** Whether some request waits for `jobId` alone now (its final state then unblocks a reply: commit it at once). */
  awaitsOnly(jobId: number): boolean;
}

export function createWaits(): Waits {
  const waiters = new Set<{ left: Set<number>; done(): void }>();
  return {
    until(pending) {
      const left = new Set(pending);
      if (left.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.add({ left, done: resolve }));
    },
    awaitsOnly(jobId) {
      for (const w of waiters) if (w.left.size === 1 && w.left.has(jobId)) return true;
      return false;
    },
    final(jobId) {
      for (const w of waiters) {
        if (!w.left.delete(jobId) || w.left.size > 0) continue;
        waiters.delete(w);
        w.done();
      }
    },
  };
}
