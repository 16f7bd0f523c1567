/**
 * Opening a daemon's SQLite database the same way everywhere: the file made
 * 0600 first, WAL, and an EXCLUSIVE lock taken at once, so a second daemon
 * for the same directory fails at start with ALREADY_RUNNING instead of
 * sharing the file.
 *
 * Two daemons started at the same moment (two CLI calls that both found no
 * master) each hold the file briefly while they switch it to WAL; with no
 * wait at all each could see the other's brief lock and both would give up,
 * leaving none running. So the opening steps wait up to OPEN_WAIT_MS for a
 * lock: a brief one passes, one held by a running daemon does not.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, openSync } from 'node:fs';
import { QpyError } from '../errors.js';

export interface OpenOptions {
  /** FULL (an fsync per commit) or NORMAL (survives a SIGKILL of the process, not a power cut). */
  synchronous: 'FULL' | 'NORMAL';
  /** Who holds it, for the ALREADY_RUNNING message: `qpy-master`, `qpy-multiuser`. */
  daemon: string;
  /** How to stop the other one. */
  hint: string;
  /** Create or migrate the schema, once the lock is held. */
  init(db: Database.Database): void;
}

/** How long the opening steps wait for another opener's brief lock. */
export const OPEN_WAIT_MS = 1000;

export function openLockedDatabase(path: string, opts: OpenOptions): Database.Database {
  closeSync(openSync(path, 'a', 0o600));
  chmodSync(path, 0o600);
  const db = new Database(path, { timeout: OPEN_WAIT_MS });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous}`);
    // Take the exclusive lock now, not at the first write.
    db.exec('BEGIN IMMEDIATE; COMMIT;');
    // Held now for the daemon's life: nobody else's lock is ever waited for again.
    db.pragma('busy_timeout = 0');
    opts.init(db);
  } catch (err) {
    db.close();
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      throw new QpyError('ALREADY_RUNNING', `another ${opts.daemon} is already running for ${path}`, opts.hint);
    }
    if (err instanceof QpyError) throw err;
    throw new QpyError('STORE', `cannot open ${path}: ${(err as Error).message}`);
  }
  return db;
}
