/**
 * The master's durable state in SQLite (better-sqlite3): jobs, queue order,
 * the ID counter and small settings. WAL journal with
 * `locking_mode=EXCLUSIVE`: the owning master holds the database lock for its
 * whole life, which is also what makes a second master for the same
 * directory fail at once (and, without shared memory, it holds on NFS).
 * It stores rows and knows no qpy rules.
 */
import { jobSchema, type Job } from '../protocol/job.js';
import { QpyError } from '../errors.js';
import { openLockedDatabase } from './sqlite.js';
import { migrate } from './schema.js';

/** One transaction's worth of changes. */
export interface Batch {
  /** Jobs to insert or replace, each with its queue position (null when not queued; 'keep': the stored one). */
  put: Map<number, { job: Job; pos: number | null | 'keep' }>;
  remove: Set<number>;
  /**
   * Many new jobs, read when the batch is written (a million jobs of a load
   * need no million entries here): each ID's current job and queue position,
   * or undefined if it is gone. Written before `remove` and `put`.
   */
  putRanges: { first: number; last: number; read(id: number): { job: Job; pos: number | null } | undefined }[];
  /** Meta values to set; a null value deletes the key. */
  meta: Map<string, string | null>;
}

export function emptyBatch(): Batch {
  return { put: new Map(), putRanges: [], remove: new Set(), meta: new Map() };
}

export interface Loaded {
  /** Read once, in ID order, as it is walked; `skipped` is complete once it has been. */
  jobs: Iterable<Job>;
  /** IDs of queued jobs, in queue order. */
  queue: number[];
  meta: Map<string, string>;
  /** Rows that could not be read (logged, skipped; never fatal). */
  skipped: string[];
}

export interface JobStore {
  load(): Loaded;
  write(batch: Batch): void;
  close(): void;
}

/** Open (creating if needed) the store at `path`. Throws ALREADY_RUNNING if another process holds it. */
export function openJobStore(path: string): JobStore {
  const db = openLockedDatabase(path, { synchronous: 'FULL', daemon: 'qpy-master', hint: 'use it, or stop it first with: qpy finish', init: migrate });
  const putJob = db.prepare('INSERT OR REPLACE INTO jobs (id, status, pos, doc) VALUES (?, ?, ?, ?)');
  const updateJob = db.prepare('UPDATE jobs SET status = ?, doc = ? WHERE id = ?');
  const delJob = db.prepare('DELETE FROM jobs WHERE id = ?');
  const putMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  const delMeta = db.prepare('DELETE FROM meta WHERE key = ?');
  const writeTx = db.transaction((batch: Batch) => {
    for (const r of batch.putRanges) {
      for (let id = r.first; id <= r.last; id++) {
        const e = r.read(id);
        if (e !== undefined) putJob.run(id, e.job.state.type, e.pos, JSON.stringify(e.job));
      }
    }
    for (const id of batch.remove) delJob.run(id);
    for (const [id, { job, pos }] of batch.put) {
      if (pos === 'keep') updateJob.run(job.state.type, JSON.stringify(job), id);
      else putJob.run(id, job.state.type, pos, JSON.stringify(job));
    }
    for (const [k, v] of batch.meta) {
      if (v === null) delMeta.run(k);
      else putMeta.run(k, v);
    }
  });
  return {
    load() {
      const skipped: string[] = [];
      // Queue order: by stored position, then ID; rows come in ID order, so usually already sorted.
      const ids: number[] = [];
      const pos: number[] = [];
      let sorted = true;
      for (const [id, p] of db.prepare("SELECT id, pos FROM jobs WHERE status = 'queue' ORDER BY id").raw().iterate() as Iterable<[number, number | null]>) {
        const at = p ?? id;
        if (pos.length > 0 && at < pos[pos.length - 1]!) sorted = false;
        ids.push(id);
        pos.push(at);
      }
      const queue = sorted ? ids : ids.map((id, i) => [id, pos[i]!] as const).sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([id]) => id);
      const meta = new Map<string, string>();
      for (const row of db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]) meta.set(row.key, row.value);
      // Jobs are read as they are walked (a million stored jobs are never all parsed at once).
      function* jobs(): Generator<Job> {
        for (const [id, doc] of db.prepare('SELECT id, doc FROM jobs ORDER BY id').raw().iterate() as Iterable<[number, string]>) {
          try {
            yield jobSchema(JSON.parse(doc), '$');
          } catch (err) {
            skipped.push(`job row ${id}: ${(err as Error).message}`);
          }
        }
      }
      return { jobs: jobs(), queue, meta, skipped };
    },
    write(batch) {
      try {
        writeTx(batch);
      } catch (err) {
        throw new QpyError('STORE', `cannot write the job database: ${(err as Error).message}`);
      }
    },
    close() {
      db.close();
    },
  };
}
