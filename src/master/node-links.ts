/**
 * The state of the master's link to one node, as a pure state machine: what
 * each event (link lost, link back, down timeout, leftovers reclaimed) does,
 * and which actions the caller must then carry out. Timers, the allocator
 * and the jobs live in the adapter (daemons/master/node-health.ts).
 *
 *   up ──lost──▶ lost ──(timeout)──▶ down ──back──▶ returning ──reclaimed──▶ up
 *    ▲            │                   ▲                │
 *    └────back────┘                   └──────lost──────┘
 *
 * While `lost` the node gets no new jobs but its running jobs are kept (their
 * ends are read when it comes back). Past the timeout it is `down`: its
 * running jobs become node_failed. When it answers again, whatever is left
 * of those jobs is killed (`returning`) before it gets new jobs.
 */

export type NodeLink =
  | { kind: 'up' }
  | { kind: 'lost'; since: number; why: string }
  | { kind: 'down'; since: number; why: string }
  | { kind: 'returning' };

export type LinkAction =
  /** Ask the allocator for no more grants on the node. */
  | 'stop_grants'
  /** Grants on the node again. */
  | 'resume_grants'
  /** The node is down: its running jobs become node_failed; show it as down. */
  | 'fail_jobs'
  /** Kill what is left of its node_failed jobs, then report `reclaimed`. */
  | 'reclaim'
  /** No longer shown as down. */
  | 'show_up';

export interface LinkStep {
  link: NodeLink;
  actions: LinkAction[];
}

export const LINK_UP: NodeLink = { kind: 'up' };

const stay = (link: NodeLink): LinkStep => ({ link, actions: [] });

/** The link was lost, or an attempt to open it failed, at `now`. */
export function linkLost(link: NodeLink, why: string, now: number): LinkStep {
  switch (link.kind) {
    case 'up':
      return { link: { kind: 'lost', since: now, why }, actions: ['stop_grants'] };
    case 'lost':
    case 'down':
      return stay({ ...link, why });
    case 'returning':
      // Lost again while its leftovers were being killed: down again, the reclaim repeats when it is back.
      return stay({ kind: 'down', since: now, why });
  }
}

/** The link is open again. */
export function linkBack(link: NodeLink): LinkStep {
  switch (link.kind) {
    case 'up':
    case 'returning':
      return stay(link);
    case 'lost':
      return { link: LINK_UP, actions: ['resume_grants'] };
    case 'down':
      return { link: { kind: 'returning' }, actions: ['reclaim'] };
  }
}

/** Leftovers of node_failed jobs are gone: the node can take jobs again. */
export function linkReclaimed(link: NodeLink): LinkStep {
  return link.kind === 'returning' ? { link: LINK_UP, actions: ['resume_grants', 'show_up'] } : stay(link);
}

/** When a lost link turns into a down node, or null if no timeout runs. */
export function downDeadline(link: NodeLink, downAfterMs: number): number | null {
  return link.kind === 'lost' ? link.since + downAfterMs : null;
}

/** Time passed: a link lost for `downAfterMs` or longer is down. */
export function linkTick(link: NodeLink, now: number, downAfterMs: number): LinkStep {
  if (link.kind !== 'lost' || now - link.since < downAfterMs) return stay(link);
  return { link: { kind: 'down', since: link.since, why: link.why }, actions: ['fail_jobs'] };
}
