/**
 * Group commit: changes asked for in the same turn of the event loop are
 * written in one transaction (one fsync), and every caller is told once that
 * transaction is durable. This is what lets many concurrent `qpy sub` share
 * one disk flush while each is acknowledged only after its commit.
 *
 * Changes that need no acknowledgement (a job's end: its run file stays on
 * disk until the end is committed, so a crash loses nothing) wait up to
 * `lazyMs` for company, so a burst of job ends shares one flush too.
 *
 * Durability: a commit someone's reply waits for (`flush()`) survives a
 * power cut (synchronous FULL: an fsync). The others survive a crash or a
 * SIGKILL of the master, not a power cut (NORMAL: written to the system,
 * not synced; a later FULL commit, or a checkpoint, syncs them too): a
 * job's end (lazily) and its start before its launch (`flush('crash')`,
 * the dispatcher's: that a launch follows only a committed start is what
 * keeps a job from running twice across a crash). A power cut of the head
 * machine may so lose the last moments' starts and ends: such a job is run
 * again, or its end read from its run file, or it ends `lost`; never a
 * submission that was acknowledged.
 */
import type { Job } from '../protocol/job.js';
import type { GroupTemplate } from '../protocol/job.js';
import { inSortedRuns } from '../protocol/selector.js';
import type { HistoryRecord } from '../protocol/history.js';
import { emptyBatch, type Batch, type JobStore } from './job-store.js';

export interface Committer {
  /** Write a job: `pos` is its queue position (null when not queued; 'keep' leaves the stored one; 'first': see Batch). */
  putJob(job: Job, pos: number | null | 'keep' | 'first'): void;
  /** Write new jobs `first`…`last`, each as `read` gives it when the commit runs. */
  putRange(first: number, last: number, read: Batch['putRanges'][number]['read']): void;
  /** Write the template the compact members of group `id` follow. */
  putGroup(id: number, template: GroupTemplate): void;
  /** Every job `first`…`last` (there may be gaps) was unqueued at `at`. */
  unqueueRange(first: number, last: number, at: number): void;
  removeJob(id: number): void;
  /** Remove every job in these runs of IDs (sorted; there may be gaps). */
  removeRanges(runs: readonly [number, number][]): void;
  setMeta(key: string, value: string): void;
  /** Add history rows, written in the same transaction as what else this commit holds. */
  putHistory(rows: readonly HistoryRecord[]): void;
  deleteMeta(key: string): void;
  /**
   * Commit now (this turn of the event loop); resolves when everything asked for so far is committed,
   * through a power cut, or (`crash`) through a crash of the master only (see the top).
   */
  flush(durability?: 'powerCut' | 'crash'): Promise<void>;
  /** Commit within `lazyMs`; resolves when committed. Unflushed changes are committed this way too. */
  flushSoon(): Promise<void>;
}

export function createCommitter(store: JobStore, onError: (err: Error) => void, lazyMs = 20): Committer {
  let batch = emptyBatch();
  let waiters: { resolve(): void; reject(e: Error): void }[] = [];
  let immediate = false;
  let timer: NodeJS.Timeout | null = null;
  const scheduleNow = () => {
    if (immediate) return;
    immediate = true;
    setImmediate(run);
  };
  const scheduleSoon = () => {
    if (immediate || timer) return;
    timer = setTimeout(run, lazyMs);
  };
  function run(): void {
    immediate = false;
    if (timer) clearTimeout(timer);
    timer = null;
    const empty =
      batch.put.size === 0 &&
      batch.putRanges.length === 0 &&
      batch.unqueueRanges.length === 0 &&
      batch.removeRanges.length === 0 &&
      batch.remove.size === 0 &&
      batch.meta.size === 0 &&
      batch.history.length === 0;
    if (empty && waiters.length === 0) return;
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
      const before = batch.put.get(job.id);
      if (before !== undefined) batch.passed.push(before.job);
      batch.put.set(job.id, { job, pos });
      scheduleSoon();
    },
    putRange(first, last, read) {
      batch.putRanges.push({ first, last, read });
      scheduleSoon();
    },
    putGroup(id, template) {
      batch.groups.set(id, template);
      scheduleSoon();
    },
    unqueueRange(first, last, at) {
      batch.unqueueRanges.push({ first, last, at });
      scheduleSoon();
    },
    removeJob(id) {
      batch.put.delete(id);
      batch.remove.add(id);
      scheduleSoon();
    },
    removeRanges(runs) {
      // A pending write of a job removed now must not bring it back (puts are written after removals).
      for (const id of batch.put.keys()) if (inSortedRuns(runs, id)) batch.put.delete(id);
      for (const r of runs) batch.removeRanges.push([r[0], r[1]]);
      scheduleSoon();
    },
    setMeta(key, value) {
      batch.meta.set(key, value);
      scheduleSoon();
    },
    putHistory(rows) {
      if (rows.length === 0) return;
      batch.history.push(...rows);
      scheduleSoon();
    },
    deleteMeta(key) {
      batch.meta.set(key, null);
      scheduleSoon();
    },
    flush(durability = 'powerCut') {
      if (durability === 'powerCut') batch.sync = 'FULL';
      return new Promise((resolve, reject) => {
        waiters.push({ resolve, reject });
        scheduleNow();
      });
    },
    flushSoon() {
      return new Promise((resolve, reject) => {
        waiters.push({ resolve, reject });
        scheduleSoon();
      });
    },
  };
}
