/**
 * Pruning history in the background: every `everyMs` (and soon after the
 * master starts), rows past the settings' historyDays and historyJobs go, a
 * small batch per transaction, each batch in its own turn of the event loop,
 * so dispatch passes and requests go on between them and no transaction is
 * long. What goes is decided by master/history.ts `prunePlan`.
 */
import { prunePlan } from '../../master/history.js';
import type { Settings } from '../../protocol/settings.js';
import type { JobStore } from '../../store/job-store.js';
import type { Log } from '../shared/log.js';

/** Rows one prune transaction removes at most (a few milliseconds). */
export const PRUNE_BATCH = 2_000;

export interface HistoryPrunerOptions {
  history: JobStore['history'];
  settings(): Settings;
  now(): number;
  log: Log;
  everyMs: number;
}

export function startHistoryPruner(o: HistoryPrunerOptions): { close(): void } {
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let closed = false;
  let pruned = 0;
  const later = (ms: number) => {
    if (!closed) timer = setTimeout(step, ms);
  };
  function step(): void {
    timer = null;
    immediate = null;
    if (closed) return;
    let n: number;
    try {
      const plan = prunePlan(o.settings(), o.now(), o.history.maxSeq());
      n = o.history.prune(plan.endedBefore, plan.seqUpTo, PRUNE_BATCH);
    } catch (err) {
      o.log(`history pruning failed: ${(err as Error).message}`);
      later(o.everyMs);
      return;
    }
    pruned += n;
    if (n >= PRUNE_BATCH) {
      immediate = setImmediate(step); // more to go: the next batch after what else waits
      return;
    }
    if (pruned > 0) o.log(`history: pruned ${pruned} records`);
    pruned = 0;
    later(o.everyMs);
  }
  later(Math.min(o.everyMs, 5_000));
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}
