/**
 * History, decided: which rows a job's write adds to history, which stored
 * rows a `qpy history` page lists, and what pruning removes. Pure: the daemon
 * reads and writes the rows (src/store/history-table.ts) and passes `now`.
 *
 * A run that ended is one row, written in the same transaction as the job's
 * state (so history never misses a final job): the final state when a job is
 * written final, and the last attempt when a job is written queued or running
 * again after a run (`--retry`, `qpy retry`). A job that ended without running
 * (undone) is one row too, except compact members of an array or a load
 * unqueued together (`qpy kill` of a million queued members): each run of
 * them within one group is ONE row standing for IDs `id`…`last`, so a kill
 * never writes a million history rows in one go.
 */
import type { Attempt, Job, JobState } from '../protocol/job.js';
import type { HistoryRecord, StoredHistoryRow } from '../protocol/history.js';
import type { Selector } from '../protocol/selector.js';
import type { Settings } from '../protocol/settings.js';
import type { MasterToCli } from '../protocol/user-master.js';
import { isFinal } from './lifecycle.js';
import { inRanges } from './select.js';

const DAY_MS = 86_400_000;

const endedAt = (state: JobState): number | undefined => (state as { endedAt?: unknown }).endedAt as number | undefined;

/** A final state rebuilt from an attempt (its fields as they are: `status` becomes `type`; a null outcome is none). */
function stateOfAttempt(a: Attempt): JobState {
  const { status, outcome, ...rest } = a;
  return { type: status, ...rest, ...(outcome !== null ? { outcome } : {}) } as JobState;
}

/** The history rows a write of `job` adds (an existing row for the same run is replaced). */
export function historyRecordsOf(job: Job): HistoryRecord[] {
  const base = { id: job.id, last: job.id, cwd: job.spec.cwd };
  if (isFinal(job)) {
    const ended = endedAt(job.state);
    return ended === undefined ? [] : [{ ...base, status: job.state.type, ended, record: job }];
  }
  const attempts = job.attempts ?? [];
  const a = attempts[attempts.length - 1];
  if (a === undefined) return [];
  const { attempts: _, ...rest } = job;
  const before = attempts.slice(0, -1);
  const record: Job = { ...rest, state: stateOfAttempt(a), ...(before.length > 0 ? { attempts: before } : {}) };
  return [{ ...base, status: a.status, ended: a.endedAt, record }];
}

/** What rangeRecords reads of the job table. */
export interface RangeJobs {
  get(id: number): Job | undefined;
  /** The last ID of the run of IDs of `id`'s group around it (see JobTable.runEnd). */
  runEnd(id: number): number;
}

/** Compact members `first`…`last` unqueued together: one row per group's run of them, its first job's record standing for all. */
export function rangeRecords(jobs: RangeJobs, first: number, last: number): HistoryRecord[] {
  const out: HistoryRecord[] = [];
  for (let a = first; a <= last; ) {
    const b = Math.min(last, Math.max(a, jobs.runEnd(a)));
    // The first member of the run still undone (a gap or a job kept whole is not one of them).
    let id = a;
    let job = jobs.get(id);
    while (id < b && job?.state.type !== 'undone') job = jobs.get(++id);
    const ended = job === undefined ? undefined : endedAt(job.state);
    if (job?.state.type === 'undone' && ended !== undefined)
      out.push({ id, last: b, status: 'undone', ended, cwd: job.spec.cwd, record: job });
    a = b + 1;
  }
  return out;
}

/** Does a stored row match the selector (OR of status words, directories and ID ranges; an empty one matches all)? */
export function rowMatches(row: Pick<StoredHistoryRow, 'id' | 'last' | 'status' | 'cwd'>, sel: Selector): boolean {
  if (sel.statuses.length === 0 && sel.dirs.length === 0 && sel.ranges.length === 0) return true;
  if (sel.statuses.includes('all') || (sel.statuses as readonly string[]).includes(row.status) || sel.dirs.includes(row.cwd)) return true;
  if (row.last === row.id) return inRanges(row.id, sel.ranges);
  return sel.ranges.some(([a, b]) => a <= row.last && b >= row.id && a <= b);
}

type HistoryReply = Extract<MasterToCli, { type: 'history' }>;

/**
 * A page of `qpy history`: the rows read (at most `scanned` of them, in
 * [ended, seq] order after the request's position) that match the selector.
 * Their records go out as the JSON text stored, unparsed (the CLI reads and
 * checks each; one it cannot read it counts and leaves out), so a page costs
 * the master little more than the read. `more`: where the next page starts,
 * when `scanned` rows were read (there may be more).
 */
export function historyReply(
  reqId: number,
  rows: readonly StoredHistoryRow[],
  selector: Selector,
  settings: Settings,
  scanned: number,
): HistoryReply {
  const records: string[] = [];
  const spans: [number, number][] = [];
  for (const row of rows) {
    if (!rowMatches(row, selector)) continue;
    if (row.last !== row.id) spans.push([records.length, row.last]);
    records.push(row.doc);
  }
  const end = rows[rows.length - 1];
  return {
    type: 'history',
    id: reqId,
    records,
    spans,
    settings,
    ...(rows.length >= scanned && end !== undefined ? { more: [end.ended, end.seq] as [number, number] } : {}),
  };
}

/** What a pruning pass removes: rows that ended before `endedBefore`, and rows written at or before `seqUpTo` (null: none). */
export interface PrunePlan {
  endedBefore: number;
  seqUpTo: number | null;
}

/**
 * Pruning by the settings: records older than `historyDays`, and all but the
 * newest `historyJobs` (counted by the order written: `maxSeq` is the newest
 * row's; rows pruned by age leave gaps, so fewer may be kept, never more).
 */
export function prunePlan(settings: Pick<Settings, 'historyDays' | 'historyJobs'>, now: number, maxSeq: number | null): PrunePlan {
  const excess = maxSeq === null ? null : maxSeq - settings.historyJobs;
  return { endedBefore: now - settings.historyDays * DAY_MS, seqUpTo: excess !== null && excess > 0 ? excess : null };
}
