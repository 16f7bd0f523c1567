/**
 * Cores come back from dead masters. qpy-multiuser knows which users have a
 * master connected; a user whose masters have all been away longer than a
 * grace (QPY_MASTER_GRACE_MS, default 30 s) has its slots checked against the
 * live job wrappers that the probes list on each node (their tags, see
 * executor/wrapper.ts): a slot whose wrapper is gone is released and waiting
 * users are woken at once; a slot whose wrapper still runs, or on a node
 * whose list is unknown (down, no list), stays charged. While such a user
 * holds slots, its nodes are probed again every grace period. A list counts
 * only if its probe started after the master went away, so a launch made
 * just before the link dropped is never mistaken for a vanished job.
 */
import { releaseVanishedSlots, type AllocatorState, type SlotRecord } from '../allocator/index.js';
import type { Prober } from './node-prober.js';
import type { Log } from './log.js';

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
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  const start = opts.now();
  for (const u of state.users) if (u.slots.size > 0) awaySince.set(u.name, start);

  /** The users whose grace is over and who still hold slots. */
  function overdue(): string[] {
    const t = opts.now();
    const out: string[] = [];
    for (const [user, since] of awaySince) {
      const u = state.userByName.get(user);
      if (u === undefined || u.slots.size === 0) awaySince.delete(user);
      else if (t - since >= opts.graceMs) out.push(user);
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
      if (list === null || list.startedAt < since) continue;
      live.set(slot.node, new Set(list.tags.filter((t) => t.user === user).map((t) => t.jobId)));
    }
    if (live.size === 0) return;
    const gone = releaseVanishedSlots(state, user, live);
    if (gone.length === 0) return;
    opts.log(`user ${user}: master away ${((opts.now() - since) / 1000).toFixed(0)} s; released ${gone.length} slot(s) whose jobs have ended (${gone.map((s) => `job ${s.jobId} on ${s.node}`).join(', ')})`);
    opts.released(user, gone);
  }

  /** While any away user holds slots, probe its nodes once its grace is over, then every grace period. */
  function schedule(): void {
    if (closed || timer !== null || awaySince.size === 0) return;
    const t = opts.now();
    const due = Math.min(...[...awaySince.values()].map((since) => Math.max(since + opts.graceMs - t, 0)));
    timer = setTimeout(() => {
      timer = null;
      const users = overdue();
      const nodes = new Set<string>();
      for (const user of users) for (const s of state.userByName.get(user)?.slots.values() ?? []) nodes.add(s.node);
      const prober = opts.prober();
      if (users.length > 0 && prober !== null) {
        void prober.probe([...nodes].filter((n) => state.nodeByName.has(n))).then(() => {
          check();
          later();
        });
      } else later();
    }, due + 50);
    timer.unref();
  }

  /** The next round, a grace period from now, if anyone is still away with slots. */
  function later(): void {
    if (closed || timer !== null) return;
    overdue();
    if (awaySince.size === 0) return;
    timer = setTimeout(() => {
      timer = null;
      schedule();
    }, opts.graceMs);
    timer.unref();
  }

  function check(): void {
    if (closed) return;
    for (const user of overdue()) reap(user);
  }

  schedule();
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
      schedule();
    },
    check,
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}
