/**
 * qpy-multiuser's ledger at the daemon's edge: every slot the allocator
 * charges opens a row and every slot it lets go closes one, at the daemon's
 * clock, in the same commit as the slot itself (see
 * src/store/allocator-ledger.ts). Also: start-up reconciliation of rows and
 * slots, the report (read a part at a time, so grants go on meanwhile), and
 * pruning of rows older than the retention.
 */
import { QpyError } from '../../errors.js';
import type { SlotRecord } from '../../allocator/state.js';
import type { AllocatorState } from '../../allocator/state.js';
import { finishReport, newTally, tallyGrants } from '../../allocator/usage-report.js';
import type { MasterToAllocator } from '../../protocol/master-allocator.js';
import type { UsageReport } from '../../protocol/usage-report.js';
import type { AllocatorStore } from '../../store/allocator-store.js';
import type { LedgerCloser } from '../../store/allocator-ledger.js';
import type { Log } from '../shared/log.js';
import type { MultiuserContext } from './context.js';

/** The slots a master's message may change, as they were before it (null: it changes none). */
export interface SlotsBefore {
  user: string;
  /** The job IDs to compare afterwards ('all' for a registration). */
  jobs: number[] | 'all';
  slots: Map<number, SlotRecord>;
}

/** Take the slots `msg` may change, before the allocator handles it. */
export function slotsBefore(state: AllocatorState, msg: MasterToAllocator): SlotsBefore | null {
  const held = state.userByName.get(msg.user)?.slots;
  if (msg.type === 'register') return { user: msg.user, jobs: 'all', slots: new Map(held ?? []) };
  if (msg.type !== 'request' && msg.type !== 'release') return null;
  const slot = held?.get(msg.jobId);
  return { user: msg.user, jobs: [msg.jobId], slots: new Map(slot === undefined ? [] : [[msg.jobId, slot]]) };
}

/**
 * Write what changed since `before` to the ledger: a slot gone (or replaced)
 * closes its row, a new one opens a row; closes first, so a slot replaced
 * under the same job closes the old row only. The caller commits.
 */
export function recordSlotChanges(ctx: MultiuserContext, before: SlotsBefore, by: LedgerCloser, ended: string | null): void {
  const now = ctx.now();
  const after = ctx.state.userByName.get(before.user)?.slots ?? new Map<number, SlotRecord>();
  const ids = before.jobs === 'all' ? new Set([...before.slots.keys(), ...after.keys()]) : before.jobs;
  const opened: SlotRecord[] = [];
  for (const id of ids) {
    const was = before.slots.get(id);
    const is = after.get(id);
    if (was === is) continue;
    if (was !== undefined) ctx.store.closeGrant(before.user, id, now, by, ended);
    if (is !== undefined) opened.push(is);
  }
  for (const s of opened)
    ctx.store.openGrant({
      user: before.user,
      jobId: s.jobId,
      node: s.node,
      cores: s.cores,
      memGB: s.memGB,
      gpus: s.gpus.length,
      grantedAt: now,
    });
}

/** Slots a dead master's user was reaped of: their rows close now. The caller commits. */
export function recordReaped(ctx: Pick<MultiuserContext, 'store' | 'now'>, user: string, slots: readonly SlotRecord[]): void {
  for (const s of slots) ctx.store.closeGrant(user, s.jobId, ctx.now(), 'reaped', null);
}

/**
 * At start, rows and slots agree: a row open without its slot (dropped by the
 * store's repair) closes now; a slot without an open row (a store from before
 * the ledger) opens one now. Normally neither happens: both are written in
 * one commit. The caller commits.
 */
export function reconcileLedger(store: AllocatorStore, state: AllocatorState, now: number, log: Log): void {
  const open = new Set(store.openGrants().map((g) => `${g.user}\0${g.jobId}`));
  let opened = 0;
  for (const u of state.users)
    for (const s of u.slots.values()) {
      if (open.delete(`${u.name}\0${s.jobId}`)) continue;
      store.openGrant({ user: u.name, jobId: s.jobId, node: s.node, cores: s.cores, memGB: s.memGB, gpus: s.gpus.length, grantedAt: now });
      opened++;
    }
  for (const key of open) {
    const [user, jobId] = key.split('\0') as [string, string];
    store.closeGrant(user, Number(jobId), now, 'start', null);
  }
  if (opened + open.size > 0) log(`ledger: opened ${opened} row(s) for slots it lacked, closed ${open.size} row(s) without a slot`);
}

/** Rows read per part (about 50 ms on a 2-core machine): between parts the daemon serves other requests. */
const PAGE_ROWS = 5000;

/**
 * The report over [since, until) (until null: now), from what is committed.
 * `now` is read just before the held rows, in the same turn: a row read as
 * held counts up to `now`, and is skipped if it comes again among the
 * released ones (released meanwhile, between two parts).
 */
export async function makeReport(ctx: MultiuserContext, since: number | null, until: number | null): Promise<UsageReport> {
  if (since !== null && until !== null && since >= until)
    throw new QpyError('INVALID_ARGUMENT', `the period is empty: --since (${iso(since)}) is not before --until (${iso(until)})`);
  await ctx.store.commit();
  const now = ctx.now();
  const period = { since, until: until ?? now };
  if (since !== null && since >= period.until)
    throw new QpyError('INVALID_ARGUMENT', `the period is empty: --since (${iso(since)}) is not before now (${iso(now)})`);
  const from = since ?? Number.MIN_SAFE_INTEGER;
  const tally = newTally();
  let page = ctx.store.ledgerPage(null, from, PAGE_ROWS);
  const held = new Set(page.rows.map((r) => r.row));
  tallyGrants(tally, page.rows, period, now);
  while (page.next !== null) {
    await new Promise((r) => setImmediate(r));
    page = ctx.store.ledgerPage(page.next, from, PAGE_ROWS);
    tallyGrants(
      tally,
      page.rows.filter((r) => !held.has(r.row)),
      period,
      now,
    );
  }
  return finishReport(tally, period, now, ctx.state.rules, ctx.state.totalCores);
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** How often the ledger is pruned. */
const PRUNE_EVERY_MS = 24 * 3600 * 1000;

/** Prune rows released more than `days` ago now and once a day; returns the stop function. */
export function pruneLedgerDaily(store: AllocatorStore, days: number, now: () => number, log: Log): () => void {
  const prune = () =>
    void store
      .pruneLedger(now() - days * 24 * 3600 * 1000)
      .then((n) => n > 0 && log(`ledger: pruned ${n} row(s) released more than ${days} days ago`))
      .catch((err: Error) => log(`ledger: ${err.message}`));
  prune();
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
