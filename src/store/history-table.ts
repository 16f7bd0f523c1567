/**
 * The history table of the master's store (schema.ts v3): rows written
 * inside the job store's transactions, pages read in [ended, seq] order, and
 * pruning a small batch at a time. It stores and reads rows; what goes in,
 * what a page lists and what is pruned is decided in src/master/history.ts.
 */
import type Database from 'better-sqlite3';
import type { HistoryRecord, StoredHistoryRow } from '../protocol/history.js';

/** Which rows a page reads: ended within [since, until), after position `after` ([ended, seq]), at most `limit`. */
export interface HistoryRange {
  since: number | null;
  until: number | null;
  after: readonly [number, number] | null;
  limit: number;
}

export interface HistoryTable {
  /** Write rows (call inside a transaction): a row for the same run (ID, end, status) is replaced in place. */
  put(rows: readonly HistoryRecord[]): void;
  read(range: HistoryRange): StoredHistoryRow[];
  /** The newest row's seq, or null when there is none. */
  maxSeq(): number | null;
  /** Remove at most `limit` rows that ended before `endedBefore` or were written at or before `seqUpTo`; how many went. */
  prune(endedBefore: number, seqUpTo: number | null, limit: number): number;
}

export function historyTable(db: Database.Database): HistoryTable {
  const put = db.prepare(
    'INSERT INTO history (id, last, status, ended, cwd, doc) VALUES (?, ?, ?, ?, ?, ?) ' +
      'ON CONFLICT (id, ended, status) DO UPDATE SET last = excluded.last, cwd = excluded.cwd, doc = excluded.doc',
  );
  const maxSeq = db.prepare('SELECT MAX(seq) FROM history').pluck();
  const pruneOld = db.prepare('DELETE FROM history WHERE seq IN (SELECT seq FROM history WHERE ended < ? ORDER BY ended LIMIT ?)');
  const pruneFirst = db.prepare('DELETE FROM history WHERE seq IN (SELECT seq FROM history WHERE seq <= ? ORDER BY seq LIMIT ?)');
  const pruneTx = db.transaction((endedBefore: number, seqUpTo: number | null, limit: number): number => {
    let n = pruneOld.run(endedBefore, limit).changes;
    if (seqUpTo !== null && n < limit) n += pruneFirst.run(seqUpTo, limit - n).changes;
    return n;
  });
  // One statement per shape of range, prepared once.
  const reads = new Map<string, Database.Statement>();
  const readOf = (range: HistoryRange): Database.Statement => {
    const where: string[] = [];
    if (range.since !== null) where.push('ended >= @since');
    if (range.until !== null) where.push('ended < @until');
    if (range.after !== null) where.push('ended >= @afterEnded AND (ended > @afterEnded OR seq > @afterSeq)');
    const sql =
      'SELECT seq, id, last, status, ended, cwd, doc FROM history' +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY ended, seq LIMIT @limit';
    let s = reads.get(sql);
    if (s === undefined) reads.set(sql, (s = db.prepare(sql)));
    return s;
  };
  return {
    put(rows) {
      for (const r of rows) put.run(r.id, r.last, r.status, r.ended, r.cwd, JSON.stringify(r.record));
    },
    read(range) {
      const params: Record<string, number> = { limit: range.limit };
      if (range.since !== null) params['since'] = range.since;
      if (range.until !== null) params['until'] = range.until;
      if (range.after !== null) [params['afterEnded'], params['afterSeq']] = range.after;
      return readOf(range).all(params) as StoredHistoryRow[];
    },
    maxSeq() {
      return (maxSeq.get() as number | null) ?? null;
    },
    prune(endedBefore, seqUpTo, limit) {
      return pruneTx(endedBefore, seqUpTo, limit);
    },
  };
}
