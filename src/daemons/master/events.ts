/**
 * The event log and the notifications, at the one place every change of a
 * job passes: the store's write. The committer's store is wrapped, and once
 * a write is committed (never before, never for one that failed) its status
 * changes are derived (src/master/event-log.ts) and appended to events.jsonl
 * (event-file.ts), and the jobs whose `--notify` asks for the change are
 * handed to the notifier (notifier.ts). Neither may fail a write: whatever
 * they throw is logged.
 */
import type { Job } from '../../protocol/job.js';
import type { Settings } from '../../protocol/settings.js';
import type { Batch, JobStore } from '../../store/job-store.js';
import { StatusChanges, jobEvent, type JobEvent } from '../../master/event-log.js';
import { notifiesOnWrite, notifyWanted } from '../../master/notify.js';
import { running, type MasterState } from '../../master/state.js';
import { limits, timing } from '../../config.js';
import type { Log } from '../shared/log.js';
import { openEventFile, type EventFile } from './event-file.js';
import { createNotifier, type Notifier } from './notifier.js';

export interface Events {
  /** The store to commit through: its writes are logged and notified once committed. */
  readonly store: JobStore;
  /** Write what is buffered and close the log (the master is stopping). */
  close(): void;
}

export interface EventsOptions {
  path: string;
  user: string;
  /** The state as restored, read at each write for what a bulk change does not carry (groups, templates). */
  state: MasterState;
  settings: () => Settings;
  log: Log;
  now: () => number;
}

/** `onCommitted`: told after each committed write (the user's page listens). */
export function withEvents(store: JobStore, o: EventsOptions, onCommitted: () => void = () => undefined): Events {
  const maxBytes = limits.eventLogBytes;
  let changes: StatusChanges | null = null;
  let file: EventFile | null = null;
  if (maxBytes > 0) {
    changes = new StatusChanges(o.user);
    changes.seed(o.state.jobs, running(o.state));
    file = openEventFile(o.path, maxBytes, limits.eventLogsKept, o.log);
  }
  const notifier: Notifier = createNotifier(o.settings, o.log, () => timing.notifyTimeoutMs);
  let failures = 0;

  const logged = (batch: Batch, at: string) => {
    if (changes === null || file === null) return;
    const emit = (events: JobEvent[]) => {
      for (const e of events) file!.append(`${JSON.stringify(e)}\n`);
    };
    const groupOf = (id: number) => o.state.jobs.groupOf(id);
    // In the order the store writes them (job-store.ts): new ranges, unqueued ranges, removals, jobs.
    for (const r of batch.putRanges) emit(changes.submitted(r.first, r.last, groupOf(r.first), at));
    for (const r of batch.unqueueRanges) emit(changes.unqueued(r.first, r.last, groupOf, at));
    for (const [a, b] of batch.removeRanges) changes.removed(a, b);
    for (const id of batch.remove) changes.removed(id, id);
    for (const job of batch.passed) emit(changes.put(job, at));
    for (const { job } of batch.put.values()) emit(changes.put(job, at));
  };

  const notified = (batch: Batch, at: string) => {
    // Each change once, also when a job was put twice in one status within the batch.
    const told = batch.passed.length > 0 ? new Set<string>() : null;
    const notify = (job: Job) => {
      if (job.spec.notify === undefined || !notifiesOnWrite(job)) return;
      if (told !== null) {
        const key = `${job.id} ${job.state.type}`;
        if (told.has(key)) return;
        told.add(key);
      }
      notifier.notify(job, jobEvent(o.user, at, job, null));
    };
    for (const job of batch.passed) notify(job);
    for (const { job } of batch.put.values()) notify(job);
    // A compact member unqueued follows its group's spec: one notification for the range.
    for (const r of batch.unqueueRanges) {
      const job: Job | undefined = o.state.jobs.get(r.first);
      if (job === undefined || !notifyWanted(job.spec.notify, 'undone') || job.state.type !== 'undone') continue;
      notifier.notify(job, { ...jobEvent(o.user, at, job, 'queue'), ...(r.last > r.first ? { last: r.last } : {}) });
    }
  };

  return {
    store: {
      load: () => store.load(),
      close: () => store.close(),
      history: store.history,
      write(batch) {
        store.write(batch); // throws if it fails: nothing is logged or notified
        onCommitted();
        try {
          const at = new Date(o.now()).toISOString();
          logged(batch, at);
          notified(batch, at);
        } catch (err) {
          if (failures++ < 10) o.log(`event log: ${(err as Error).message}`);
        }
      },
    },
    close: () => file?.close(),
  };
}
