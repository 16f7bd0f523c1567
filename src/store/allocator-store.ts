/**
 * The `qpy-multiuser` daemon's SQLite store: what it could not rebuild after
 * a crash before every master has re-registered. Slots above all: a restarted
 * daemon that forgot them could grant a busy core to someone else. Also the
 * users in registration order (the order that gets an even split's
 * remainder) and whether the admin removed them, drained nodes, pending
 * invitations, and the last good nodes and rules files. And the ledger of
 * every grant, for the admin's accounting (allocator-ledger.ts).
 *
 * Changes asked for in one turn of the event loop share one transaction (one
 * fsync); `commit()` resolves once they are durable, and the daemon answers a
 * grant only then.
 */
import { QpyError } from '../errors.js';
import { openLockedDatabase } from './sqlite.js';
import {
  ledgerStatements,
  migrateAllocatorStore,
  type LedgerCloser,
  type LedgerCursor,
  type LedgerGrant,
  type LedgerPage,
} from './allocator-ledger.js';
import { sampleStatements, type StoredSample } from './allocator-samples.js';

export interface StoredSlot {
  user: string;
  jobId: number;
  node: string;
  cores: number;
  memGB: number;
  /** GPU device indices on the node (absent or empty: none). */
  gpus?: number[];
}

export interface StoredInvite {
  user: string;
  key: Buffer;
  expiresAt: number;
}

export interface AllocatorSnapshot {
  users: { name: string; removed: boolean }[];
  slots: StoredSlot[];
  /** The store's rowid of each slot, in the same order (to delete a row whatever it holds). */
  slotRows: number[];
  drained: string[];
  invites: StoredInvite[];
  meta: Map<string, string>;
}

export interface AllocatorStore {
  load(): AllocatorSnapshot;
  putUser(name: string, removed: boolean): void;
  deleteUser(name: string): void;
  putSlot(slot: StoredSlot): void;
  deleteSlot(user: string, jobId: number): void;
  /** Delete the slot stored in this row (see allocator-repair.ts). */
  deleteSlotRow(row: number): void;
  /** Make `user`'s slots exactly `slots`. */
  replaceSlots(user: string, slots: StoredSlot[]): void;
  setDrained(node: string, drained: boolean): void;
  putInvite(invite: StoredInvite): void;
  deleteInvite(user: string): void;
  setMeta(key: string, value: string): void;
  /** Open a ledger row for a new grant (with the putSlot or replaceSlots that stores the slot). */
  openGrant(grant: LedgerGrant): void;
  /** Close the open ledger row of this slot, if any, at `at` (with the change that deletes the slot). */
  closeGrant(user: string, jobId: number, at: number, by: LedgerCloser, ended: string | null): void;
  /** The slots whose ledger row is open, as committed (read at start). */
  openGrants(): { user: string; jobId: number }[];
  /** The next part of the ledger rows not released by `since` (see allocator-ledger.ts; reads what is committed: commit first). */
  ledgerPage(cursor: LedgerCursor | null, since: number, limit: number): LedgerPage;
  /** Delete the ledger rows released before `before`; resolves with how many, once durable. */
  pruneLedger(before: number): Promise<number>;
  /** Add a utilisation sample at `level` (0: fine, 1: coarse; allocator-samples.ts). */
  putSample(level: number, sample: StoredSample): void;
  /** The samples of `level` from `since` on, oldest first (read at start). */
  loadSamples(level: number, since: number): StoredSample[];
  /** Delete the samples of `level` before `before`. */
  pruneSamples(level: number, before: number): void;
  /** Resolves when every change asked for so far is durable. */
  commit(): Promise<void>;
  close(): void;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, seq INTEGER NOT NULL, removed INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS slots (
    user TEXT NOT NULL, job_id INTEGER NOT NULL, node TEXT NOT NULL, cores INTEGER NOT NULL, mem REAL NOT NULL,
    PRIMARY KEY (user, job_id)
  );
  CREATE TABLE IF NOT EXISTS drained (node TEXT PRIMARY KEY);
  CREATE TABLE IF NOT EXISTS invites (user TEXT PRIMARY KEY, key BLOB NOT NULL, expires REAL NOT NULL);
`;

/** Open (creating if needed) the store; ALREADY_RUNNING if another daemon holds it. */
export function openAllocatorStore(path: string): AllocatorStore {
  // NORMAL in WAL mode: a commit survives the daemon's SIGKILL (the data is in the OS), not a power
  // cut of this machine; and these rows are a safety net that re-registering masters make exact
  // anyway. FULL would cost an fsync per grant, and grants are on every job's path.
  const db = openLockedDatabase(path, {
    synchronous: 'NORMAL',
    daemon: 'qpy-multiuser',
    hint: 'stop it first with: qpy-admin finish',
    init: (d) => {
      d.exec(SCHEMA);
      migrateAllocatorStore(d);
    },
  });
  const ledger = ledgerStatements(db);
  const samples = sampleStatements(db);
  const st = {
    putUser: db.prepare(
      'INSERT INTO users (name, seq, removed) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM users), ?) ' +
        'ON CONFLICT(name) DO UPDATE SET removed = excluded.removed',
    ),
    delUser: db.prepare('DELETE FROM users WHERE name = ?'),
    delUserSlots: db.prepare('DELETE FROM slots WHERE user = ?'),
    putSlot: db.prepare('INSERT OR REPLACE INTO slots (user, job_id, node, cores, mem, gpus) VALUES (?, ?, ?, ?, ?, ?)'),
    delSlot: db.prepare('DELETE FROM slots WHERE user = ? AND job_id = ?'),
    delSlotRow: db.prepare('DELETE FROM slots WHERE rowid = ?'),
    drain: db.prepare('INSERT OR IGNORE INTO drained (node) VALUES (?)'),
    undrain: db.prepare('DELETE FROM drained WHERE node = ?'),
    putInvite: db.prepare('INSERT OR REPLACE INTO invites (user, key, expires) VALUES (?, ?, ?)'),
    delInvite: db.prepare('DELETE FROM invites WHERE user = ?'),
    putMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
  };
  let pending: (() => void)[] = [];
  let waiters: { resolve(): void; reject(e: Error): void }[] = [];
  let scheduled = false;
  const run = db.transaction((ops: (() => void)[]) => {
    for (const op of ops) op();
  });
  function flush(): void {
    scheduled = false;
    const ops = pending;
    const toWake = waiters;
    pending = [];
    waiters = [];
    try {
      if (ops.length > 0) run(ops);
      for (const w of toWake) w.resolve();
    } catch (err) {
      const e = new QpyError('STORE', `cannot write the allocator database: ${(err as Error).message}`);
      for (const w of toWake) w.reject(e);
    }
  }
  const queue = (op: () => void): void => {
    pending.push(op);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const putSlot = (s: StoredSlot) => st.putSlot.run(s.user, s.jobId, s.node, s.cores, s.memGB, (s.gpus ?? []).join(','));
  return {
    load() {
      const users = (db.prepare('SELECT name, removed FROM users ORDER BY seq').all() as { name: string; removed: number }[]).map((u) => ({
        name: u.name,
        removed: u.removed !== 0,
      }));
      const rows = db.prepare('SELECT rowid, user, job_id, node, cores, mem, gpus FROM slots ORDER BY rowid').all() as {
        rowid: number;
        user: string;
        job_id: number;
        node: string;
        cores: number;
        mem: number;
        gpus: string;
      }[];
      const slots = rows.map((r) => ({
        user: r.user,
        jobId: r.job_id,
        node: r.node,
        cores: r.cores,
        memGB: r.mem,
        ...(r.gpus === '' ? {} : { gpus: r.gpus.split(',').map(Number) }),
      }));
      const slotRows = rows.map((r) => r.rowid);
      const drained = (db.prepare('SELECT node FROM drained').all() as { node: string }[]).map((r) => r.node);
      const invites = (db.prepare('SELECT user, key, expires FROM invites').all() as { user: string; key: Buffer; expires: number }[]).map(
        (r) => ({ user: r.user, key: r.key, expiresAt: r.expires }),
      );
      const meta = new Map(
        (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]),
      );
      return { users, slots, slotRows, drained, invites, meta };
    },
    putUser: (name, removed) => queue(() => st.putUser.run(name, removed ? 1 : 0)),
    deleteUser: (name) =>
      queue(() => {
        st.delUserSlots.run(name);
        st.delUser.run(name);
      }),
    putSlot: (slot) => queue(() => putSlot(slot)),
    deleteSlot: (user, jobId) => queue(() => st.delSlot.run(user, jobId)),
    deleteSlotRow: (row) => queue(() => st.delSlotRow.run(row)),
    replaceSlots: (user, slots) =>
      queue(() => {
        st.delUserSlots.run(user);
        for (const s of slots) putSlot(s);
      }),
    setDrained: (node, drained) => queue(() => (drained ? st.drain.run(node) : st.undrain.run(node))),
    putInvite: (i) => queue(() => st.putInvite.run(i.user, i.key, i.expiresAt)),
    deleteInvite: (user) => queue(() => st.delInvite.run(user)),
    setMeta: (key, value) => queue(() => st.putMeta.run(key, value)),
    openGrant: (g) => queue(() => ledger.open(g)),
    closeGrant: (user, jobId, at, by, ended) => queue(() => ledger.close(user, jobId, at, by, ended)),
    openGrants: () => ledger.openRows(),
    ledgerPage: (cursor, since, limit) => ledger.page(cursor, since, limit),
    pruneLedger(before) {
      let count = 0;
      queue(() => (count = ledger.prune(before)));
      return this.commit().then(() => count);
    },
    putSample: (level, sample) => queue(() => samples.put(level, sample)),
    loadSamples: (level, since) => samples.load(level, since),
    pruneSamples: (level, before) => queue(() => samples.prune(level, before)),
    commit() {
      if (!scheduled && pending.length === 0) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    close() {
      if (scheduled || pending.length > 0) flush();
      db.close();
    },
  };
}
