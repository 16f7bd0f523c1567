/**
 * Cores come back from dead masters. qpy-multiuser knows which users have a
 * master connected; a user whose masters have all been away longer than a
 * grace (QPY_MASTER_GRACE_MS, default 30 s) has its slots checked against the
 * live jobs that the probes list on each node (their tags, see
 * executor/node-probe.ts): a slot whose job is gone is released and waiting
 * users are woken at once; a slot whose job still runs, or on a node
 * whose list is unknown (down, no list), stays charged. While such a user
 * holds slots, its nodes are probed again every grace period. A list counts
 * only if its probe started after the master went away (and the agents'
 * markers had time to list its last launches: MARKER_LAG_MS), so a launch
 * made just before the link dropped is never mistaken for a vanished job.
 */
import { releaseVanishedSlots, type AllocatorState, type SlotRecord } from '../../allocator/index.js';
import type { Prober } from './node-prober.js';
import type { Log } from '../shared/log.js';
import { MARKER_LAG_MS } from '../../executor/agent-waiter.js';

export interface DeadMasterOptions {
  state: AllocatorState;
  prober: () => Prober | null;
  graceMs: number;
  now(): number;
  log: Log;
  /** After slots were released: persist the user, commit, wake the others. */
  released(user: string, slots: SlotRecord[]): void;
}

export interface DeadMasterWatch {
  connected(user: string): void;
  disconnected(user: string): void;
  /** Check every away user against the latest probes (after each probe round). */
  check(): void;
  close(): void;
}

export function watchDeadMasters(opts: DeadMasterOptions): DeadMasterWatch {
  const { state } = opts;
  const connections = new Map<string, number>();
  const awaySince = new Map<string, number>();
  /** The next round's timer, and when it is due. */
  let timer: { handle: NodeJS.Timeout; due: number } | null = null;
  let closed = false;
  const start = opts.now();
  for (const u of state.users) if (u.slots.size > 0) awaySince.set(u.name, start);

  /** The away users who still hold slots (the others are forgotten), and which of them are past their grace. */
  function awayUsers(): { user: string; since: number; overdue: boolean }[] {
    const t = opts.now();
    const out: { user: string; since: number; overdue: boolean }[] = [];
    for (const [user, since] of awaySince) {
      if ((state.userByName.get(user)?.slots.size ?? 0) === 0) awaySince.delete(user);
      else out.push({ user, since, overdue: t - since >= opts.graceMs });
    }
    return out;
  }

  function reap(user: string): void {
    const u = state.userByName.get(user);
    const since = awaySince.get(user);
    const prober = opts.prober();
    if (u === undefined || since === undefined || prober === null) return;
    const live = new Map<string, Set<number>>();
    for (const slot of u.slots.values()) {
      if (live.has(slot.node)) continue;
      const list = prober.live(slot.node);
      if (list === null || list.startedAt < since + MARKER_LAG_MS) continue;
      live.set(slot.node, new Set(list.tags.filter((t) => t.user === user).map((t) => t.jobId)));
    }
    if (live.size === 0) return;
    const gone = releaseVanishedSlots(state, user, live);
    if (gone.length === 0) return;
    opts.log(
      `user ${user}: master away ${((opts.now() - since) / 1000).toFixed(0)} s; ` +
        `released ${gone.length} slot(s) whose jobs have ended (${gone.map((s) => `job ${s.jobId} on ${s.node}`).join(', ')})`,
    );
    opts.released(user, gone);
  }

  /**
   * Arm the next round: at the end of the earliest grace still running, and a
   * grace period from now for users already past theirs (their jobs may still end).
   */
  function arm(): void {
    if (closed) return;
    const t = opts.now();
    const dues = awayUsers().map((a) => (a.overdue ? t + opts.graceMs : a.since + opts.graceMs));
    if (dues.length === 0) return;
    const due = Math.min(...dues);
    if (timer !== null && timer.due <= due) return;
    if (timer !== null) clearTimeout(timer.handle);
    const handle = setTimeout(() => void round(), due - t + 50);
    handle.unref();
    timer = { handle, due };
  }

  /** Probe the nodes where overdue users hold slots, give back what has ended, and arm the next round. */
  async function round(): Promise<void> {
    timer = null;
    const users = awayUsers().filter((a) => a.overdue);
    const prober = opts.prober();
    if (users.length > 0 && prober !== null) {
      const nodes = new Set<string>();
      for (const { user } of users) for (const s of state.userByName.get(user)?.slots.values() ?? []) nodes.add(s.node);
      await prober.probe([...nodes].filter((n) => state.nodeByName.has(n)));
      check();
    }
    arm();
  }

  function check(): void {
    if (closed) return;
    for (const a of awayUsers()) if (a.overdue) reap(a.user);
  }

  arm();
  return {
    connected(user) {
      connections.set(user, (connections.get(user) ?? 0) + 1);
      awaySince.delete(user);
    },
    disconnected(user) {
      const n = (connections.get(user) ?? 1) - 1;
      if (n > 0) return void connections.set(user, n);
      connections.delete(user);
      if ((state.userByName.get(user)?.slots.size ?? 0) === 0) return;
      awaySince.set(user, opts.now());
      arm();
    },
    check,
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer.handle);
    },
  };
}
