/**
 * The allocation the qpy-multiuser daemon starts from: the store as loaded
 * (repaired of rows an older version may have kept), the admin's nodes and
 * rules files in force (the last good copy of any that is wrong), and the
 * users, slots, drained nodes and invitations the store remembers, with the
 * ledger's open rows made to match the slots. Kept
 * apart from daemon.ts, which serves what this returns.
 */
import type { MultiuserPaths } from '../../config.js';
import { addUser, createAllocator, type AllocatorState } from '../../allocator/state.js';
import { chargeSlot } from '../../allocator/accounting.js';
import { setDrained } from '../../allocator/admin.js';
import type { AllocatorSnapshot, AllocatorStore } from '../../store/allocator-store.js';
import { repairSnapshot } from '../../store/allocator-repair.js';
import type { Log } from '../shared/log.js';
import { limitsInForce, nodesInForce, rulesInForce } from './config.js';
import { reconcileLedger } from './ledger.js';

/** What start-up restored, for the daemon to serve. */
export interface RestoredAllocation {
  readonly state: AllocatorState;
  /** The store's meta rows as loaded. */
  readonly meta: Map<string, string>;
  /** Admin files that are wrong, by name ('nodes', 'rules'): the message `qpy-admin` shows. */
  readonly problems: Map<string, string>;
  readonly invites: Map<string, { key: Buffer; expiresAt: number }>;
  /** The nodes file's text as read now (null when missing). */
  readonly nodesText: string | null;
}

/** The allocation as the store left it: users in registration order, their slots, drained nodes. */
function restore(state: AllocatorState, snap: AllocatorSnapshot, log: Log): void {
  for (const u of snap.users) addUser(state, u.name).removed = u.removed;
  for (const s of snap.slots) {
    const user = state.userByName.get(s.user) ?? addUser(state, s.user);
    if (!user.slots.has(s.jobId)) chargeSlot(state, user, s);
  }
  for (const node of snap.drained) setDrained(state, node, true);
  if (snap.slots.length > 0) log(`restored ${snap.slots.length} slots of ${snap.users.length} users`);
}

/**
 * The store as loaded, without the impossible rows an older version may have
 * kept (see allocator-repair.ts): each is logged, and deleted from the store
 * with the start-up's first commit.
 */
function loadRepaired(store: AllocatorStore, log: Log): AllocatorSnapshot {
  const repair = repairSnapshot(store.load());
  for (const line of repair.lines) log(`store repair: ${line}`);
  for (const name of repair.userNames) store.deleteUser(name);
  for (const row of repair.slotRows) store.deleteSlotRow(row);
  return repair.snap;
}

/** Load the store, apply the admin's files, rebuild the allocation, and commit what start-up changed. */
export async function restoreAllocation(paths: MultiuserPaths, store: AllocatorStore, log: Log): Promise<RestoredAllocation> {
  const snap = loadRepaired(store, log);
  const meta = snap.meta;
  const problems = new Map<string, string>();
  const nodes = nodesInForce(paths.nodes, meta.get('last_good_nodes'));
  const rules = rulesInForce(paths.rules, meta.get('last_good_rules'));
  const limits = limitsInForce(paths.limits, meta.get('last_good_limits'));
  for (const [key, r] of [
    ['nodes', nodes],
    ['rules', rules],
    ['limits', limits],
  ] as const) {
    if (r.problem) {
      problems.set(key, `${r.problem.message} (the last good ${key} file stays in force)`);
      log(`${key}: ${r.problem.message}`);
    } else if (r.text !== null) store.setMeta(`last_good_${key}`, r.text);
  }
  const state = createAllocator(nodes.value, rules.value);
  state.limits = limits.value;
  restore(state, snap, log);
  reconcileLedger(store, state, Date.now(), log);
  const invites = new Map(snap.invites.map((i) => [i.user, { key: i.key, expiresAt: i.expiresAt }]));
  await store.commit();
  return { state, meta, problems, invites, nodesText: nodes.text };
}
