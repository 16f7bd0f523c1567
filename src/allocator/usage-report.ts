/**
 * The admin's accounting report, computed from qpy-multiuser's ledger rows
 * (pure: rows, the period, the rules and the cores in; the report out). The
 * daemon reads the ledger a part at a time and folds each part in with
 * `tallyGrants`, so a year of rows never sits in memory at once.
 *
 * Definitions (manual/admin-guide.md, "Accounting"):
 * - a slot holds its cores and memory from its grant to its release, by the
 *   daemon's clock; one still held counts up to `now`. Only the part inside
 *   [since, until) counts: core-hours = cores × hours, GB-hours = GB × hours;
 * - jobs: slots granted inside the period; failed: those of them whose
 *   master said at release that they ended neither `done` nor `killed`;
 * - share: the user's core-hours ÷ every user's core-hours in the period;
 * - entitlement: the part of the cores the rules in force give the user
 *   when the users who held a slot in the period are the registered ones:
 *   for `even`, an even split (1/N of them); for `explicit`, (its minimum +
 *   its part) ÷ the cores that take jobs, as `distribute` computes them for
 *   those users (an unlisted user gets the global minimum only).
 */
import type { UsageReport, UserUsage } from '../protocol/usage-report.js';
import { distribute, type Rules } from './rules.js';

/** What the report reads of a ledger row (src/store/allocator-ledger.ts). */
export interface GrantRecord {
  user: string;
  cores: number;
  memGB: number;
  /** GPUs the slot held (absent: none). */
  gpus?: number;
  grantedAt: number;
  releasedAt: number | null;
  ended: string | null;
}

/** The period, ms since the epoch: `since` null is "from the first row". */
export interface ReportPeriod {
  since: number | null;
  until: number;
}

/** How a job ended that is no failure (its master's word). */
const NOT_FAILED = new Set(['done', 'killed']);

const HOUR_MS = 3_600_000;

interface UserTally {
  coreMs: number;
  gbMs: number;
  gpuMs: number;
  jobs: number;
  failed: number;
}

/** The sums so far, by user. */
export type ReportTally = Map<string, UserTally>;

export function newTally(): ReportTally {
  return new Map();
}

/** Fold `rows` into `tally`: the part of each inside the period, up to `now`. */
export function tallyGrants(tally: ReportTally, rows: Iterable<GrantRecord>, period: ReportPeriod, now: number): void {
  const from = period.since ?? -Infinity;
  const to = Math.min(period.until, now);
  for (const r of rows) {
    const start = Math.max(r.grantedAt, from);
    const end = Math.min(r.releasedAt ?? now, to);
    // A row granted after `now` (while the report was read) is not in it.
    const grantedInside = r.grantedAt >= from && r.grantedAt < period.until && r.grantedAt <= now;
    if (end <= start && !grantedInside) continue;
    let t = tally.get(r.user);
    if (t === undefined) {
      t = { coreMs: 0, gbMs: 0, gpuMs: 0, jobs: 0, failed: 0 };
      tally.set(r.user, t);
    }
    if (end > start) {
      t.coreMs += r.cores * (end - start);
      t.gbMs += r.memGB * (end - start);
      t.gpuMs += (r.gpus ?? 0) * (end - start);
    }
    if (grantedInside) {
      t.jobs++;
      if (r.ended !== null && !NOT_FAILED.has(r.ended)) t.failed++;
    }
  }
}

/** Each user's entitlement (0–1), or null for all when the rules cannot be applied. */
function entitlements(rules: Rules, totalCores: number, users: string[]): Map<string, number> | null {
  if (totalCores <= 0 || users.length === 0) return null;
  const result = distribute(rules, totalCores, users);
  if (!result.ok) return null;
  // Even: exactly 1/N (the split's whole cores would round it).
  if (rules.type === 'even') return new Map(users.map((u) => [u, 1 / users.length]));
  return new Map(users.map((u) => [u, ((result.shares.get(u)?.min ?? 0) + (result.shares.get(u)?.extra ?? 0)) / totalCores]));
}

/** The report from the sums (users by core-hours, largest first; ties by name). */
export function finishReport(tally: ReportTally, period: ReportPeriod, now: number, rules: Rules, totalCores: number): UsageReport {
  const names = [...tally.keys()].sort();
  const entitled = entitlements(rules, totalCores, names);
  let coreMs = 0;
  let gbMs = 0;
  let gpuMs = 0;
  let jobs = 0;
  let failed = 0;
  for (const t of tally.values()) {
    coreMs += t.coreMs;
    gbMs += t.gbMs;
    gpuMs += t.gpuMs;
    jobs += t.jobs;
    failed += t.failed;
  }
  const users: UserUsage[] = names.map((name) => {
    const t = tally.get(name)!;
    return {
      name,
      coreHours: t.coreMs / HOUR_MS,
      gbHours: t.gbMs / HOUR_MS,
      ...(gpuMs > 0 ? { gpuHours: t.gpuMs / HOUR_MS } : {}),
      jobs: t.jobs,
      failed: t.failed,
      share: coreMs > 0 ? t.coreMs / coreMs : 0,
      entitlement: entitled?.get(name) ?? null,
    };
  });
  users.sort((a, b) => b.coreHours - a.coreHours || (a.name < b.name ? -1 : 1));
  const span = period.since === null ? null : Math.max(0, Math.min(period.until, now) - period.since);
  return {
    since: period.since,
    until: period.until,
    now,
    rules: rules.type,
    totalCores,
    users,
    total: { coreHours: coreMs / HOUR_MS, gbHours: gbMs / HOUR_MS, ...(gpuMs > 0 ? { gpuHours: gpuMs / HOUR_MS } : {}), jobs, failed },
    capacityCoreHours: span === null ? null : (totalCores * span) / HOUR_MS,
  };
}

/** The whole report from every row at once (tests, and small ledgers). */
export function buildReport(rows: Iterable<GrantRecord>, period: ReportPeriod, now: number, rules: Rules, totalCores: number): UsageReport {
  const tally = newTally();
  tallyGrants(tally, rows, period, now);
  return finishReport(tally, period, now, rules, totalCores);
}
