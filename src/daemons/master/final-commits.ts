/**
 * The master's committer, wrapped so that a job's write carries its history
 * rows and its final state, once durable, clears its script copy and wakes
 * `qpy wait`: kept apart from daemon.ts, which builds it.
 */
import { rmSync } from 'node:fs';
import type { Committer } from '../../store/group-commit.js';
import { isFinal } from '../../master/lifecycle.js';
import { historyRecordsOf, rangeRecords, type RangeJobs } from '../../master/history.js';
import type { Waits } from './waits.js';

/**
 * What goes with a job's write: the history rows of a run that ended, in the
 * same commit (see master/history.ts). And what follows a job's final state
 * once it is committed: its script copy goes (it may be needed until then: a
 * relaunch, an adoption), and `qpy wait` requests hear of it.
 */
export function onFinalCommitted(c: Committer, waits: Waits, jobs: RangeJobs): Committer {
  return {
    ...c,
    putJob(job, pos) {
      c.putJob(job, pos);
      c.putHistory(historyRecordsOf(job));
      if (!isFinal(job)) return;
      const copy = job.spec.copy?.path;
      // A job's end waits up to the commit window for company, unless a reply waits on it (`qpy sub -W`,
      // `qpy wait`): on it alone, or on it and others whose ends are written in the same window.
      void (waits.written(job.id) ? c.flush() : c.flushSoon()).then(
        () => {
          if (copy !== undefined) rmSync(copy, { force: true });
          waits.final(job.id);
        },
        () => undefined,
      );
    },
    unqueueRange(first, last, at) {
      c.unqueueRange(first, last, at);
      c.putHistory(rangeRecords(jobs, first, last));
      void c.flushSoon().then(
        () => {
          for (let id = first; id <= last; id++) waits.final(id);
        },
        () => undefined,
      );
    },
  };
}
