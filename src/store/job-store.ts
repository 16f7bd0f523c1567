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
  /** Meta values to set; a null value deletes the key. */
  meta: Map<string, string | null>;
}

export function emptyBatch(): Batch {
  return { put: new Map(), remove: new Set(), meta: new Map() };
}

export interface Loaded {
  jobs: Job[];
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
      const jobs: Job[] = [];
      const queued: { id: number; pos: number }[] = [];
      const skipped: string[] = [];
      for (const row of db.prepare('SELECT id, pos, doc FROM jobs ORDER BY id').iterate() as Iterable<{ id: number; pos: number | null; doc: string }>) {
        try {
          const job = jobSchema(JSON.parse(row.doc), '$');
          jobs.push(job);
          if (job.state.type === 'queue') queued.push({ id: job.id, pos: row.pos ?? job.id });
        } catch (err) {
          skipped.push(`job row ${row.id}: ${(err as Error).message}`);
        }
      }
      queued.sort((a, b) => a.pos - b.pos || a.id - b.id);
      const meta = new Map<string, string>();
      for (const row of db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]) meta.set(row.key, row.value);
      return { jobs, queue: queued.map((q) => q.id), meta, skipped };
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
