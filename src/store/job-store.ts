/**
 * The master's durable state in SQLite (better-sqlite3): jobs, queue order,
 * the ID counter and small settings. WAL journal with
 * `locking_mode=EXCLUSIVE`: the owning master holds the database lock for its
 * whole life, which is also what makes a second master for the same
 * directory fail at once (and, without shared memory, it holds on NFS).
 * It stores rows and knows no qpy rules.
 *
 * A member of an array or a load that is plainly queued, or was unqueued,
 * is a compact row (doc '', see schema.ts v2): its group's template is
 * stored once, so a million members cost a million small rows, and
 * unqueueing or removing a run of them is one statement.
 */
import { jobSchema, jobSpecSchema, type CompactRow, type GroupTemplate, type Job } from '../protocol/job.js';
import { num, obj } from '../protocol/schema.js';
import { QpyError } from '../errors.js';
import { openLockedDatabase } from './sqlite.js';
import { migrate } from './schema.js';
import type { HistoryRecord } from '../protocol/history.js';
import { historyTable, type HistoryTable } from './history-table.js';

/** A job to write: whole, or as a compact member of its group. With its queue position (null when not queued). */
export type Row = { job: Job; pos: number | null } | { compact: CompactRow; status: 'queue' | 'undone'; pos: number | null };

/** A job read back: whole, or a compact member with its group's template. */
export type StoredJob = Job | { id: number; compact: CompactRow; template: GroupTemplate };

const templateSchema = obj({ spec: jobSpecSchema, queuedAt: num });

/** One transaction's worth of changes. */
export interface Batch {
  /**
   * Jobs to insert or replace, each with its queue position (null when not queued; 'keep': the stored one;
   * 'first': below every queued job's position as the write finds them, in the order they were put).
   */
  put: Map<number, { job: Job; pos: number | null | 'keep' | 'first' }>;
  /**
   * Earlier versions of jobs put again within this batch, in the order they
   * were replaced. Not written (only the last version is): the event log and
   * the notifications read them, so that a change passed within one commit
   * window (a job failed, then queued again by a retry) is still told.
   */
  passed: Job[];
  remove: Set<number>;
  /**
   * Many new jobs, read when the batch is written (a million jobs of a load
   * need no million entries here): each ID's current job and queue position,
   * or undefined if it is gone. Written before `remove` and `put`.
   */
  putRanges: { first: number; last: number; read(id: number): Row | undefined }[];
  /** Group templates (by group ID) that compact rows written in this batch follow. Written first. */
  groups: Map<number, GroupTemplate>;
  /** Runs of IDs, each job there unqueued at `at` (whole or compact; IDs with no row skipped). After putRanges. */
  unqueueRanges: { first: number; last: number; at: number }[];
  /** Runs of IDs whose rows are removed. After unqueueRanges, before `remove` and `put`. */
  removeRanges: [number, number][];
  /** Meta values to set; a null value deletes the key. */
  meta: Map<string, string | null>;
  /** History rows (runs that ended), written last: in the same transaction as the jobs' final states. */
  history: HistoryRecord[];
  /**
   * How durable its commit must be: `FULL`, through a power cut (an fsync:
   * what a reply to a user waits for, a submission above all); `NORMAL`,
   * through a crash or SIGKILL of the master but not a power cut (what a
   * job's start and end need: see group-commit.ts).
   */
  sync: 'FULL' | 'NORMAL';
}

export function emptyBatch(): Batch {
  return {
    put: new Map(),
    sync: 'NORMAL',
    passed: [],
    putRanges: [],
    groups: new Map(),
    unqueueRanges: [],
    removeRanges: [],
    remove: new Set(),
    meta: new Map(),
    history: [],
  };
}

export interface Loaded {
  /** Read once, in ID order, as it is walked; `skipped` is complete once it has been. */
  jobs: Iterable<StoredJob>;
  /** IDs of queued jobs, in queue order (read with the jobs once they have been walked). */
  queue(): number[];
  meta: Map<string, string>;
  /** Rows that could not be read (logged, skipped; never fatal). */
  skipped: string[];
}

export interface JobStore {
  load(): Loaded;
  write(batch: Batch): void;
  /** History: read a page, prune a batch (each its own short transaction). */
  history: Omit<HistoryTable, 'put'>;
  close(): void;
}

/** Open (creating if needed) the store at `path`. Throws ALREADY_RUNNING if another process holds it. */
export function openJobStore(path: string): JobStore {
  const db = openLockedDatabase(path, {
    synchronous: 'FULL',
    daemon: 'qpy-master',
    hint: 'use it, or stop it first with: qpy finish',
    init: migrate,
  });
  const putJob = db.prepare('INSERT OR REPLACE INTO jobs (id, status, pos, doc) VALUES (?, ?, ?, ?)');
  const putCompact = db.prepare("INSERT OR REPLACE INTO jobs (id, status, pos, doc, grp, cmd, ended) VALUES (?, ?, ?, '', ?, ?, ?)");
  const updateJob = db.prepare('UPDATE jobs SET status = ?, doc = ?, grp = NULL, cmd = NULL, ended = NULL WHERE id = ?');
  const delJob = db.prepare('DELETE FROM jobs WHERE id = ?');
  const minQueuedPos = db.prepare("SELECT MIN(pos) FROM jobs WHERE status = 'queue'").pluck();
  const putGroup = db.prepare('INSERT OR REPLACE INTO groups (id, doc) VALUES (?, ?)');
  const delGroup = db.prepare('DELETE FROM groups WHERE id = ?');
  // A whole row's doc gets the same state a whole write would give it (key order kept by json_set).
  const unqueueRange = db.prepare(
    "UPDATE jobs SET status = 'undone', pos = NULL, ended = CASE WHEN doc = '' THEN @at ELSE NULL END, " +
      "doc = CASE WHEN doc = '' THEN '' ELSE json_set(doc, '$.state', json(@state)) END WHERE id BETWEEN @first AND @last",
  );
  const delRange = db.prepare('DELETE FROM jobs WHERE id BETWEEN ? AND ?');
  const putMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  const delMeta = db.prepare('DELETE FROM meta WHERE key = ?');
  const history = historyTable(db);
  /** The connection's synchronous setting, as each batch asks (opened FULL). */
  let sync: Batch['sync'] = 'FULL';
  const writeTx = db.transaction((batch: Batch) => {
    for (const [id, t] of batch.groups) putGroup.run(id, JSON.stringify(t));
    for (const r of batch.putRanges) {
      for (let id = r.first; id <= r.last; id++) {
        const e = r.read(id);
        if (e === undefined) continue;
        if ('job' in e) putJob.run(id, e.job.state.type, e.pos, JSON.stringify(e.job));
        else putCompact.run(id, e.status, e.pos, e.compact.group, e.compact.command, e.compact.endedAt);
      }
    }
    for (const r of batch.unqueueRanges)
      unqueueRange.run({ first: r.first, last: r.last, at: r.at, state: JSON.stringify({ type: 'undone', endedAt: r.at }) });
    for (const [a, b] of batch.removeRanges) delRange.run(a, b);
    for (const id of batch.remove) delJob.run(id);
    const first: Job[] = [];
    for (const [id, { job, pos }] of batch.put) {
      if (pos === 'first') first.push(job);
      else if (pos === 'keep') updateJob.run(job.state.type, JSON.stringify(job), id);
      else putJob.run(id, job.state.type, pos, JSON.stringify(job));
    }
    // Put first in line without rewriting the rest of the queue: positions below the lowest one stored.
    if (first.length > 0) {
      const base = ((minQueuedPos.get() as number | null) ?? 0) - first.length;
      for (const [i, job] of first.entries()) putJob.run(job.id, job.state.type, base + i, JSON.stringify(job));
    }
    for (const [k, v] of batch.meta) {
      if (v === null) delMeta.run(k);
      else putMeta.run(k, v);
    }
    history.put(batch.history);
  });
  return {
    load() {
      const skipped: string[] = [];
      const meta = new Map<string, string>();
      for (const row of db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]) meta.set(row.key, row.value);
      const templates = new Map<number, GroupTemplate | null>();
      for (const [id, doc] of db.prepare('SELECT id, doc FROM groups').raw().iterate() as Iterable<[number, string]>) {
        try {
          const t = templateSchema(JSON.parse(doc), '$');
          if (t.spec.group === undefined || t.spec.group.id !== id) throw new Error('not the template of this group');
          templates.set(id, t as GroupTemplate);
        } catch (err) {
          templates.set(id, null);
          skipped.push(`group ${id}: ${(err as Error).message}`);
        }
      }
      // Queue order: by stored position, then ID; rows come in ID order, so usually already sorted.
      const ids: number[] = [];
      const pos: number[] = [];
      let sorted = true;
      let walked = false;
      const used = new Set<number>();
      // Jobs are read as they are walked, a page of rows at a time (a million stored jobs are never all
      // parsed at once; reading pages with all() costs a third less than iterating row by row).
      type RowOf = [number, string, number | null, string, number | null, string | null, number | null];
      const pageOf = db.prepare('SELECT id, status, pos, doc, grp, cmd, ended FROM jobs WHERE id > ? ORDER BY id LIMIT 10000').raw();
      function* rows(): Generator<RowOf> {
        for (let after = Number.MIN_SAFE_INTEGER; ; ) {
          const page = pageOf.all(after) as RowOf[];
          if (page.length === 0) return;
          yield* page;
          after = page[page.length - 1]![0];
        }
      }
      function* jobs(): Generator<StoredJob> {
        for (const [id, status, p, doc, grp, cmd, ended] of rows()) {
          let job: StoredJob;
          if (doc === '' && grp !== null) {
            const template = templates.get(grp);
            if (
              template == null ||
              (status !== 'queue' && status !== 'undone') ||
              (status === 'undone') !== (ended !== null) ||
              (template.spec.group.kind === 'load') !== (cmd !== null)
            ) {
              skipped.push(
                `job row ${id}: ${template == null ? `its group ${grp} is missing or unreadable` : 'a compact row that does not fit its group'}`,
              );
              continue;
            }
            used.add(grp);
            job = { id, compact: { group: grp, command: cmd, endedAt: ended }, template };
          } else {
            try {
              job = jobSchema(JSON.parse(doc), '$');
            } catch (err) {
              skipped.push(`job row ${id}: ${(err as Error).message}`);
              continue;
            }
          }
          if (status === 'queue') {
            const at = p ?? id;
            if (pos.length > 0 && at < pos[pos.length - 1]!) sorted = false;
            ids.push(id);
            pos.push(at);
          }
          yield job;
        }
        walked = true;
        // Templates no row follows any more (their members were all cleaned) go.
        for (const id of templates.keys()) if (!used.has(id)) delGroup.run(id);
      }
      const queue = (): number[] => {
        if (!walked) {
          ids.length = 0;
          pos.length = 0;
          sorted = true;
          for (const [id, p] of db.prepare("SELECT id, pos FROM jobs WHERE status = 'queue' ORDER BY id").raw().iterate() as Iterable<
            [number, number | null]
          >) {
            const at = p ?? id;
            if (pos.length > 0 && at < pos[pos.length - 1]!) sorted = false;
            ids.push(id);
            pos.push(at);
          }
        }
        return sorted
          ? ids
          : ids
              .map((id, i) => [id, pos[i]!] as const)
              .sort((a, b) => a[1] - b[1] || a[0] - b[0])
              .map(([id]) => id);
      };
      return { jobs: jobs(), queue, meta, skipped };
    },
    write(batch) {
      try {
        if (batch.sync !== sync) {
          db.pragma(`synchronous = ${batch.sync}`);
          sync = batch.sync;
        }
        writeTx(batch);
      } catch (err) {
        throw new QpyError('STORE', `cannot write the job database: ${(err as Error).message}`);
      }
    },
    history: {
      read: (range) => history.read(range),
      maxSeq: () => history.maxSeq(),
      prune: (endedBefore, seqUpTo, limit) => history.prune(endedBefore, seqUpTo, limit),
    },
    close() {
      db.close();
    },
  };
}
