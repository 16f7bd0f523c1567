/**
 * What the event log ($QPY_DIR/events.jsonl, manual/files.md) says: the job
 * status changes one committed write made, derived at one place (the
 * store's write, by the daemon) from what was written and the status each
 * job had before. That status is kept here, one byte per job ID, so a
 * million queued jobs cost a megabyte and a `put` that changes no status
 * (a hold, a reordering, a recorded pid) logs nothing. Many jobs changed
 * together (a submitted array, a killed one) make one line per run of IDs.
 * Pure: the time of the commit is given, as the line shows it (ISO 8601).
 */
import { formatOutcome } from '../protocol/usage.js';
import { JOB_STATUSES, type Job, type JobStatus, type Outcome } from '../protocol/job.js';

/** The version of the line format; a tool should skip lines of a version it does not know. */
export const EVENT_VERSION = 1;

/** One line of events.jsonl (optional fields are left out, never null). */
export interface JobEvent {
  v: typeof EVENT_VERSION;
  /** When the change was committed (ISO 8601, UTC, milliseconds). */
  time: string;
  user: string;
  job: number;
  /** Set when the line stands for every job `job`…`last` (IDs with no job between them are skipped). */
  last?: number;
  /** The status before (null: a new job). */
  from: JobStatus | null;
  to: JobStatus;
  /** The array or load (its first job's ID). */
  group?: number;
  node?: string;
  /** Which run this is or was, when it is not the first. */
  attempt?: number;
  /** How its process ended: `exit 3`, `signal KILL`, `lost`, `not started: …`. */
  outcome?: string;
  /** Its exit status, when it exited. */
  exit?: number;
  /** Why an undone job never ran (a dependency that did not succeed). */
  reason?: string;
}

const PAGE_BITS = 16;
const PAGE = 1 << PAGE_BITS;

/** Derives the events of committed writes; knows every job's last committed status. */
export class StatusChanges {
  /** Status codes (1 + index in JOB_STATUSES; 0: no job) by pages of 65,536 IDs. */
  private readonly pages = new Map<number, Uint8Array>();
  /** Running jobs: how many earlier runs each had when it started (a run that ends and is queued again adds one). */
  private readonly runs = new Map<number, number>();

  constructor(private readonly user: string) {}

  /** Learn what there is at start: each job's status, and the running jobs. */
  seed(table: { forEachStatus(fn: (id: number, s: JobStatus) => void): void }, running: Iterable<Job>): void {
    table.forEachStatus((id, s) => this.set(id, s));
    for (const job of running) this.runs.set(job.id, job.attempts?.length ?? 0);
  }

  statusOf(id: number): JobStatus | null {
    const code = this.pages.get(id >>> PAGE_BITS)?.[id & (PAGE - 1)] ?? 0;
    return code === 0 ? null : JOB_STATUSES[code - 1]!;
  }

  private set(id: number, s: JobStatus | null): void {
    let page = this.pages.get(id >>> PAGE_BITS);
    if (page === undefined) {
      if (s === null) return;
      page = new Uint8Array(PAGE);
      this.pages.set(id >>> PAGE_BITS, page);
    }
    page[id & (PAGE - 1)] = s === null ? 0 : JOB_STATUSES.indexOf(s) + 1;
  }

  /** New jobs `first`…`last` were committed, queued: one line. */
  submitted(first: number, last: number, group: number | undefined, at: string): JobEvent[] {
    for (let id = first; id <= last; id++) this.set(id, 'queue');
    return [this.event(at, first, null, 'queue', { ...(last > first ? { last } : {}), ...(group !== undefined ? { group } : {}) })];
  }

  /** Jobs among `first`…`last` were unqueued (undone): one line per run of them that were queued. */
  unqueued(first: number, last: number, group: (id: number) => number | undefined, at: string): JobEvent[] {
    const events: JobEvent[] = [];
    let start = -1;
    let end = -1;
    const close = () => {
      if (start < 0) return;
      const g = group(start);
      events.push(
        this.event(at, start, 'queue', 'undone', { ...(end > start ? { last: end } : {}), ...(g !== undefined ? { group: g } : {}) }),
      );
      start = -1;
    };
    for (let id = first; id <= last; id++) {
      const s = this.statusOf(id);
      if (s === null) continue; // no job: a run may span it
      if (s !== 'queue') {
        close();
        continue;
      }
      this.set(id, 'undone');
      if (start < 0) start = id;
      end = id;
    }
    close();
    return events;
  }

  /** Jobs `first`…`last` were removed (clean): no line, they are forgotten. */
  removed(first: number, last: number): void {
    for (let id = first; id <= last; id++) this.set(id, null);
  }

  /**
   * A job was written as it is now: a line if its status changed. Writes
   * that share a commit are merged by the store, so one write may stand for
   * several changes: a run that ended and was queued again (`--retry`),
   * perhaps started again too; a final job queued again and started.
   */
  put(job: Job, at: string): JobEvent[] {
    const from = this.statusOf(job.id);
    const to = job.state.type;
    const runsBefore = this.runs.get(job.id);
    this.set(job.id, to);
    if (to === 'running') this.runs.set(job.id, job.attempts?.length ?? 0);
    else this.runs.delete(job.id);
    const events: JobEvent[] = [];
    let was = from;
    const attempts = job.attempts ?? [];
    if (from === 'running' && runsBefore !== undefined && attempts.length > runsBefore) {
      const run = attempts[attempts.length - 1]!;
      events.push(
        this.event(at, job.id, 'running', run.status, {
          ...this.common(job),
          node: run.node,
          ...(attempts.length > 1 ? { attempt: attempts.length } : {}),
          ...(run.outcome !== null ? how(run.outcome) : {}),
        }),
      );
      was = run.status;
    }
    if (to === 'running' && was !== null && was !== 'queue' && was !== 'running') {
      events.push(this.event(at, job.id, was, 'queue', this.common(job)));
      was = 'queue';
    }
    if (was !== to) events.push(jobEvent(this.user, at, job, was));
    return events;
  }

  private common(job: Job): Partial<JobEvent> {
    return job.spec.group !== undefined ? { group: job.spec.group.id } : {};
  }

  private event(at: string, job: number, from: JobStatus | null, to: JobStatus, rest: Partial<JobEvent>): JobEvent {
    return { v: EVENT_VERSION, time: at, user: this.user, job, from, to, ...rest };
  }
}

const how = (o: Outcome): Partial<JobEvent> => ({ outcome: formatOutcome(o), ...(o.type === 'exit' ? { exit: o.code } : {}) });

/** The line for `job` as it is now, come from `from`: its group, node, run and how it ended. */
export function jobEvent(user: string, at: string, job: Job, from: JobStatus | null): JobEvent {
  const s = job.state;
  const run = (job.attempts?.length ?? 0) + 1;
  const e: JobEvent = { v: EVENT_VERSION, time: at, user, job: job.id, from, to: s.type };
  if (job.spec.group !== undefined) e.group = job.spec.group.id;
  if ('node' in s) e.node = s.node;
  if ('node' in s && run > 1) e.attempt = run;
  if ('outcome' in s) Object.assign(e, how(s.outcome));
  if (s.type === 'undone' && s.reason !== undefined) e.reason = s.reason;
  return e;
}
