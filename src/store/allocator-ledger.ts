/**
 * qpy-multiuser's ledger: one row per slot it granted, with when it was
 * granted and when it came back, by the daemon's own clock, so the admin's
 * accounting (`qpy-admin report`) never rests on what masters say. Only the
 * `ended` word (how the job ended) is the master's.
 *
 * A row is opened in the same transaction that stores its slot, and closed
 * in the one that deletes it, so a SIGKILL can never leave a slot without
 * its open row or close a row twice: a row is closed only while open
 * (`released IS NULL`), and at most one row per user and job is open (the
 * slot is unique).
 *
 * EDITORS: the table grows by columns (say `gpus INTEGER NOT NULL DEFAULT
 * 0`): append a migration below and bump ALLOCATOR_SCHEMA_VERSION; readers
 * name their columns.
 */
import type Database from 'better-sqlite3';

/** What a grant was: written when the slot is charged. */
export interface LedgerGrant {
  user: string;
  jobId: number;
  node: string;
  cores: number;
  memGB: number;
  /** How many GPUs the slot holds (absent: none). */
  gpus?: number;
  /** ms since the epoch, the daemon's clock. */
  grantedAt: number;
}

/**
 * Who closed a row: the master's `release`; its `register` (the slot was no
 * longer reported: released while the daemon was away, or refused); the
 * daemon reaping a dead master's slot; or the daemon's start (the row's slot
 * was not in the store: dropped as impossible).
 */
export type LedgerCloser = 'release' | 'register' | 'reaped' | 'start';

export interface LedgerRow extends LedgerGrant {
  gpus: number;
  /** The store's row number (rows are read in this order). */
  row: number;
  /** null while the slot is held. */
  releasedAt: number | null;
  /** How the job ended, as its master said at release (`done`, `failed`, `killed`, `node_failed`, …), else null. */
  ended: string | null;
  closedBy: LedgerCloser | null;
}

/** The allocator store's schema version (PRAGMA user_version); 0 is a store from before the ledger. */
export const ALLOCATOR_SCHEMA_VERSION = 3;

/** Add a column unless the table has it already (a store whose ledger was rebuilt by hand, say). */
function addColumn(db: Database.Database, table: string, column: string, decl: string): void {
  const has = (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).some((c) => c.name === column);
  if (!has) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${decl}`);
}

/** migrations[i] takes the allocator store from version i to i + 1. */
const migrations: ((db: Database.Database) => void)[] = [
  (db) =>
    db.exec(`
      CREATE TABLE ledger (
        row INTEGER PRIMARY KEY, user TEXT NOT NULL, job_id INTEGER NOT NULL, node TEXT NOT NULL,
        cores INTEGER NOT NULL, mem REAL NOT NULL, granted REAL NOT NULL,
        released REAL, ended TEXT, closed_by TEXT
      );
      CREATE INDEX ledger_open ON ledger (user, job_id) WHERE released IS NULL;
      CREATE INDEX ledger_released ON ledger (released);
    `),
  // v2 (issue 16): the GPU device indices a slot holds ('0,3'; '' none), so a restart gives no GPU twice,
  // and the GPUs of each grant, for GPU-hours.
  (db) => {
    addColumn(db, 'slots', 'gpus', "TEXT NOT NULL DEFAULT ''");
    addColumn(db, 'ledger', 'gpus', 'INTEGER NOT NULL DEFAULT 0');
  },
  // v3 (issue 17): the cluster page's utilisation series (allocator-samples.ts): level 0 one sample per
  // interval (10 s) for a day, level 1 one per 30 intervals (5 min) for 8 days.
  (db) =>
    db.exec(`
      CREATE TABLE IF NOT EXISTS samples (
        level INTEGER NOT NULL, at REAL NOT NULL, total INTEGER NOT NULL, outsiders REAL NOT NULL, users TEXT NOT NULL,
        PRIMARY KEY (level, at)
      );
    `),
];

/** Bring the allocator store to ALLOCATOR_SCHEMA_VERSION; refuses one made by a newer qpy. */
export function migrateAllocatorStore(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > ALLOCATOR_SCHEMA_VERSION) {
    throw new Error(`the database has schema version ${version}, newer than this qpy-multiuser (${ALLOCATOR_SCHEMA_VERSION}): upgrade qpy`);
  }
  for (let v = version; v < ALLOCATOR_SCHEMA_VERSION; v++) {
    db.transaction(() => {
      migrations[v]!(db);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/** Where the next part of a period's rows starts (after this release time and row). */
export interface LedgerCursor {
  released: number;
  row: number;
}

/** Rows that may overlap a period, read a part at a time (see `page`). */
export interface LedgerPage {
  rows: LedgerRow[];
  /** Pass as `cursor` for the next part; null when this was the last. */
  next: LedgerCursor | null;
}

interface RawRow {
  row: number;
  user: string;
  job_id: number;
  node: string;
  cores: number;
  mem: number;
  gpus: number;
  granted: number;
  released: number | null;
  ended: string | null;
  closed_by: LedgerCloser | null;
}

/** The ledger's statements over an open store (writes are run by the store inside its transactions). */
export function ledgerStatements(db: Database.Database) {
  const open = db.prepare('INSERT INTO ledger (user, job_id, node, cores, mem, gpus, granted) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const close = db.prepare(
    'UPDATE ledger SET released = MAX(?, granted), ended = ?, closed_by = ? WHERE user = ? AND job_id = ? AND released IS NULL',
  );
  const openRows = db.prepare('SELECT user, job_id FROM ledger WHERE released IS NULL');
  const COLUMNS = 'row, user, job_id, node, cores, mem, gpus, granted, released, ended, closed_by';
  // Both walk the index on `released`: a part costs the rows it returns, however old the ledger.
  const held = db.prepare(`SELECT ${COLUMNS} FROM ledger INDEXED BY ledger_released WHERE released IS NULL`);
  const page = db.prepare(
    `SELECT ${COLUMNS} FROM ledger INDEXED BY ledger_released WHERE (released, row) > (?, ?) ORDER BY released, row LIMIT ?`,
  );
  const prune = db.prepare('DELETE FROM ledger WHERE released IS NOT NULL AND released < ?');
  return {
    open: (g: LedgerGrant) => open.run(g.user, g.jobId, g.node, g.cores, g.memGB, g.gpus ?? 0, g.grantedAt),
    close: (user: string, jobId: number, at: number, by: LedgerCloser, ended: string | null) => close.run(at, ended, by, user, jobId),
    openRows: () => (openRows.all() as { user: string; job_id: number }[]).map((r) => ({ user: r.user, jobId: r.job_id })),
    /**
     * The rows not released by `since`, a part at a time: first (cursor null)
     * every row still held (at most one per slot), then the released ones in
     * order of release, at most `limit` a part. Rows granted after the
     * period come too: the report's fold skips them.
     */
    page(cursor: LedgerCursor | null, since: number, limit: number): LedgerPage {
      const raw = (cursor === null ? held.all() : page.all(cursor.released, cursor.row, limit)) as RawRow[];
      const rows = raw.map((r) => ({
        row: r.row,
        user: r.user,
        jobId: r.job_id,
        node: r.node,
        cores: r.cores,
        memGB: r.mem,
        gpus: r.gpus,
        grantedAt: r.granted,
        releasedAt: r.released,
        ended: r.ended,
        closedBy: r.closed_by,
      }));
      const last = raw[raw.length - 1];
      if (cursor === null) return { rows, next: { released: since, row: Number.MAX_SAFE_INTEGER } };
      return { rows, next: raw.length === limit && last !== undefined ? { released: last.released!, row: last.row } : null };
    },
    prune: (before: number) => prune.run(before).changes,
  };
}
