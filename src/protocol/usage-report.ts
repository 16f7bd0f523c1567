/**
 * The admin's accounting report (`qpy-admin report`, admin request
 * `report`): per user, what its granted slots held over a period, by
 * qpy-multiuser's own ledger, and its share of that use against what the
 * distribution rules entitle it to. The definitions are in
 * src/allocator/usage-report.ts, which computes it.
 */
import { arrayOf, int, nullable, num, obj, oneOf, optional, strMax, type Infer } from './schema.js';

/** One user's use over the period (or the whole cluster's, without name and shares). */
const usageFields = {
  /** Σ cores × hours held, clipped to the period. */
  coreHours: num,
  /** Σ memory (GB) × hours held, clipped to the period. */
  gbHours: num,
  /** Σ GPUs × hours held, clipped to the period; present when some slot of the period held a GPU. */
  gpuHours: optional(num),
  /** Slots granted in the period (each run of a job: a run retried counts again). */
  jobs: int,
  /** Of those, the ones whose master said they ended other than `done` or `killed` (failed, node_failed, …). */
  failed: int,
};

export const userUsageSchema = obj({
  name: strMax(256),
  ...usageFields,
  /** coreHours ÷ every user's coreHours in the period (0 when nobody used anything). */
  share: num,
  /**
   * The part of the cluster's cores the rules give this user, from 0 to 1,
   * among the users who held slots in the period; null when the rules cannot
   * be applied to them (minimums above the cores) or no core takes jobs.
   */
  entitlement: nullable(num),
});
export type UserUsage = Infer<typeof userUsageSchema>;

export const usageReportSchema = obj({
  /** The period asked for, ms since the epoch: since null is "from the oldest row kept". */
  since: nullable(num),
  until: num,
  /** When the daemon made the report: slots still held count up to here. */
  now: num,
  rules: oneOf(['even', 'explicit'] as const),
  /** Cores that take jobs now (what the rules share out). */
  totalCores: int,
  /** By core-hours, largest first. */
  users: arrayOf(userUsageSchema, 1_000_000),
  total: obj(usageFields),
  /** totalCores × the period's hours (up to now), when `since` is given: what the cluster could have held. */
  capacityCoreHours: nullable(num),
});
export type UsageReport = Infer<typeof usageReportSchema>;
