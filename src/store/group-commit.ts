/**
 * Group commit: changes asked for in the same turn of the event loop are
 * written in one transaction (one fsync), and every caller is told once that
 * transaction is durable. This is what lets many concurrent `qpy sub` share
 * one disk flush while each is acknowledged only after its commit.
 */
import type { Job } from '../protocol/job.js';
import { emptyBatch, type Batch, type JobStore } from './job-store.js';

export interface Committer {
  putJob(job: Job, pos: number | null): void;
  removeJob(id: number): void;
  setMeta(key: string, value: string): void;
  /** Resolves when everything asked for so far is committed. */
  flush(): Promise<void>;
}

export function createCommitter(store: JobStore, onError: (err: Error) => void): Committer {
  let batch = emptyBatch();
  let waiters: { resolve(): void; reject(e: Error): void }[] = [];
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(run);
  };
  function run(): void {
    scheduled = false;
    const current: Batch = batch;
    const toWake = waiters;
    batch = emptyBatch();
    waiters = [];
    try {
      store.write(current);
      for (const w of toWake) w.resolve();
    } catch (err) {
      onError(err as Error);
      for (const w of toWake) w.reject(err as Error);
    }
  }
  return {
    putJob(job, pos) {
      batch.remove.delete(job.id);
      batch.put.set(job.id, { job, pos });
      schedule();
    },
    removeJob(id) {
      batch.put.delete(id);
      batch.remove.add(id);
      schedule();
    },
    setMeta(key, value) {
      batch.meta.set(key, value);
      schedule();
    },
    flush() {
      return new Promise((resolve, reject) => {
        waiters.push({ resolve, reject });
        schedule();
      });
    },
  };
}
