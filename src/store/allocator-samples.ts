/**
 * qpy-multiuser's utilisation series for the cluster page (issue 17), in
 * its store's `samples` table: per level (0: one sample per interval, kept
 * a day; 1: the mean of 30 of them, kept 8 days), when, the cores taking
 * jobs, those busy outside qpy, and each user's cores (JSON). The daemon
 * keeps the series in memory too (web-samples.ts): pages never read here.
 */
import type Database from 'better-sqlite3';

export interface StoredSample {
  at: number;
  total: number;
  outsiders: number;
  users: Record<string, number>;
}

export function sampleStatements(db: Database.Database) {
  const put = db.prepare('INSERT OR REPLACE INTO samples (level, at, total, outsiders, users) VALUES (?, ?, ?, ?, ?)');
  const load = db.prepare('SELECT at, total, outsiders, users FROM samples WHERE level = ? AND at >= ? ORDER BY at');
  const prune = db.prepare('DELETE FROM samples WHERE level = ? AND at < ?');
  return {
    put: (level: number, s: StoredSample) => put.run(level, s.at, s.total, s.outsiders, JSON.stringify(s.users)),
    load: (level: number, since: number): StoredSample[] =>
      (load.all(level, since) as { at: number; total: number; outsiders: number; users: string }[]).flatMap((r) => {
        try {
          const users = JSON.parse(r.users) as unknown;
          if (typeof users !== 'object' || users === null || Array.isArray(users)) return [];
          const clean = Object.fromEntries(Object.entries(users).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)));
          return [{ at: r.at, total: r.total, outsiders: r.outsiders, users: clean as Record<string, number> }];
        } catch {
          return []; // a damaged row is skipped, never fatal
        }
      }),
    prune: (level: number, before: number): number => prune.run(level, before).changes,
  };
}
