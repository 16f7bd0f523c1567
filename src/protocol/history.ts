/**
 * History (`qpy history`): what the master keeps of every run that ended,
 * after `clean` too. The words and shapes shared by the master, its store
 * and the CLI live here; the request and reply are in user-master.ts.
 */
import { int, nullable, num, obj, tuple, type Infer } from './schema.js';
import { JOB_STATUSES, type Job } from './job.js';
import { selectorSchema } from './selector.js';

/** The status words `qpy history` takes: every final status (each one JOB_STATUSES has), and `all`. */
export const HISTORY_WORDS = [...JOB_STATUSES.filter((s) => s !== 'queue' && s !== 'running'), 'all'] as const;

/** Records per history page: like a check page, well under a MB of JSON. */
export const HISTORY_PAGE = 2_000;

/** Longest JSON text of one record on the wire: a Job at every limit of jobSchema stays well under it. */
export const MAX_RECORD_TEXT = 8 * 1024 * 1024;

/**
 * One history row as the store writes it. `record`: the job as it stood when
 * this run ended (an earlier attempt: the job with that attempt's state, and
 * the attempts before it). `last`: the last ID of a run of compact members
 * unqueued together, which this one row stands for (`id` otherwise).
 */
export interface HistoryRecord {
  id: number;
  last: number;
  status: string;
  ended: number;
  cwd: string;
  record: Job;
}

/** A history row read back: its columns, and the record still as JSON text (parsed only if it is listed). */
export interface StoredHistoryRow {
  seq: number;
  id: number;
  last: number;
  status: string;
  ended: number;
  cwd: string;
  doc: string;
}

/**
 * Which records a history request lists: ended within [since, until) (ms
 * since the epoch; null: no bound), and matching the selector (status words,
 * directories, ID ranges, OR-ed as for check; empty: all). `after`: the
 * position [ended, seq] the previous page stopped at (the reply's `more`).
 */
export const historyQuerySchema = obj({
  selector: selectorSchema,
  since: nullable(num),
  until: nullable(num),
  after: nullable(tuple(num, int)),
});
export type HistoryQuery = Infer<typeof historyQuerySchema>;
