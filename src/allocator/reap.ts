/**
 * Cores back from dead masters (the pure part): when a user's master has
 * been away too long, the daemon probes the nodes for the live jobs (their tags)
 * and releases the slots whose job is gone. Only what a complete probe
 * saw is trusted: a slot on a node that is down, or whose listing was
 * incomplete, stays charged (its job may still run there).
 */
import { releaseSlot } from './accounting.js';
import { forgetIfIdle, pruneNodes } from './admin.js';
import type { AllocatorState, SlotRecord } from './state.js';

/**
 * Release every slot of `userName` on a node listed in `live` (the job ids
 * whose jobs run there, listed completely) whose job id is not in that
 * node's set; slots on nodes absent from `live` stay. Then drop removed
 * nodes left empty and forget the user if it was removed and now holds
 * nothing, as a release does. Returns the released slots (none for an
 * unknown user).
 */
export function releaseVanishedSlots(
  state: AllocatorState,
  userName: string,
  live: ReadonlyMap<string, ReadonlySet<number>>,
): SlotRecord[] {
  const user = state.userByName.get(userName);
  if (user === undefined) return [];
  const gone = [...user.slots.values()].filter((s) => live.get(s.node)?.has(s.jobId) === false);
  const released = gone.flatMap((s) => releaseSlot(state, user, s.jobId) ?? []);
  if (released.length > 0) pruneNodes(state);
  forgetIfIdle(state, user);
  return released;
}
