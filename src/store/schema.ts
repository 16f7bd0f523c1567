/**
 * The master's SQLite schema and its migrations. `PRAGMA user_version` holds
 * the schema version. EDITORS: to change the schema, append a migration (never
 * edit a released one), bump SCHEMA_VERSION, and add a fixture database made
 * by the previous version under test/fixtures/.
 */
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 3;

/** migrations[i] takes a database at version i to version i + 1. */
const migrations: ((db: Database.Database) => void)[] = [
  (db) => {
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        status TEXT NOT NULL,
        pos REAL,            -- queue position (queued jobs only); smaller runs first
        doc TEXT NOT NULL    -- the Job as JSON (src/protocol/job.ts)
      );
      CREATE INDEX jobs_status ON jobs(status);
    `);
  },
  // v2: compact rows for the members of arrays and loads that are plainly queued or were unqueued
  // (doc '', grp the group whose template in `groups` they follow, cmd a load's command, ended when
  // unqueued), so a million-job array is written, unqueued, removed and read back in seconds.
  // The status index goes: the store is read in one walk by ID.
  (db) => {
    db.exec(`
      ALTER TABLE jobs ADD COLUMN grp INTEGER;
      ALTER TABLE jobs ADD COLUMN cmd TEXT;
      ALTER TABLE jobs ADD COLUMN ended REAL;
      CREATE TABLE groups (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
      DROP INDEX jobs_status;
    `);
  },
  // v3: history, one row per run that ended and per job that ended without running (see history-table.ts),
  // kept after `clean`. `doc` is the record as JSON (a Job as it stood when that run ended); the other columns
  // are what `qpy history` filters on. A run of compact members unqueued together is one row (`last` its last
  // ID; `last` = `id` otherwise). The final jobs already stored become history; their earlier attempts stay in
  // their records only.
  (db) => {
    db.exec(`
      CREATE TABLE history (
        seq INTEGER PRIMARY KEY,   -- order written: pruning by count keeps the newest
        id INTEGER NOT NULL,
        last INTEGER NOT NULL,
        status TEXT NOT NULL,
        ended REAL NOT NULL,
        cwd TEXT NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE UNIQUE INDEX history_run ON history(id, ended, status);
      CREATE INDEX history_ended ON history(ended);
      INSERT INTO history (id, last, status, ended, cwd, doc)
        SELECT id, id, status, json_extract(doc, '$.state.endedAt'), json_extract(doc, '$.spec.cwd'), doc FROM jobs
        WHERE doc <> '' AND status NOT IN ('queue', 'running') AND json_valid(doc)
          AND json_type(doc, '$.state.endedAt') IN ('integer', 'real') AND json_type(doc, '$.spec.cwd') = 'text'
        ORDER BY id;
    `);
  },
];

/** Bring `db` to SCHEMA_VERSION; refuses a database made by a newer qpy. */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(`the database has schema version ${version}, newer than this qpy (${SCHEMA_VERSION}): upgrade qpy`);
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      migrations[v]!(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
