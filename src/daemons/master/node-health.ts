/**
 * Node failure, the adapter around master/node-links.ts: executors report
 * link losses and recoveries here; this module keeps the down timers, tells
 * the allocator which nodes this master cannot reach, turns the running jobs
 * of a node that stays unreachable into node_failed (slots released), and
 * when such a node answers again kills whatever is left of those jobs before
 * it gets new ones.
 *
 * The jobs whose leftovers must be killed are kept in the store (meta key
 * `leftovers`, written in the same commit as their node_failed state), so a
 * restarted master still reclaims them, even after they were cleaned.
 */
import { failNodeJobs, retryNodeGone } from '../../master/job-events.js';
import {
  downDeadline,
  LINK_UP,
  linkBack,
  linkLost,
  linkReclaimed,
  linkTick,
  type LinkAction,
  type LinkStep,
  type NodeLink,
} from '../../master/node-links.js';
import type { Dispatcher, Runtime } from './context.js';
import { carryOut } from './effects.js';
import { plainSshProblem } from '../../executor/executor.js';

const LEFTOVERS_KEY = 'leftovers';
/** How many times what is left of a node_failed job is killed before the master gives up confirming it. */
const KILL_ROUNDS = 5;

export interface NodeHealth {
  /** An executor's report: `problem` is why the link is lost or could not be opened; null when it is open. */
  link(node: string, problem: string | null): void;
  /** The node where what is left of this node_failed job has not been killed yet, or null. */
  leftoverOn(jobId: number): string | null;
  /**
   * A node that will not come back (a Slurm pilot that ended, issue 18): its
   * running jobs become node_failed now, and what is left of them is killed
   * if the node still answers (its host may outlive the pilot).
   */
  gone(node: string, why: string): void;
  close(): void;
}

export interface NodeHealthOptions {
  /** The configured nodes: leftovers on any other node are dropped (nothing can reach them). */
  nodes: readonly string[];
  downAfterMs: number;
  /** Show the node as down (or not) wherever the cluster status is built. */
  showDown(node: string, down: boolean): void;
  /** The stored `leftovers` meta value, if any. */
  storedLeftovers: string | undefined;
}

/** Parse the stored leftovers: node → IDs of its node_failed jobs not yet reclaimed. A bad value is dropped. */
export function parseLeftovers(text: string | undefined): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  if (text === undefined) return out;
  try {
    const doc = JSON.parse(text) as unknown;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return out;
    for (const [node, ids] of Object.entries(doc)) {
      if (Array.isArray(ids)) out.set(node, new Set(ids.filter((id): id is number => Number.isSafeInteger(id) && id > 0)));
    }
  } catch {
    // unreadable: nothing to reclaim
  }
  return out;
}

const formatLeftovers = (m: Map<string, Set<number>>): string =>
  JSON.stringify(Object.fromEntries([...m].filter(([, ids]) => ids.size > 0).map(([n, ids]) => [n, [...ids]])));

export function createNodeHealth(rt: Runtime, dispatcher: Dispatcher, opts: NodeHealthOptions): NodeHealth {
  const links = new Map<string, NodeLink>();
  const timers = new Map<string, NodeJS.Timeout>();
  const leftovers = parseLeftovers(opts.storedLeftovers);
  for (const node of leftovers.keys()) {
    if (!opts.nodes.includes(node)) {
      rt.log(
        `node ${node} is no longer configured: leftovers of its node_failed jobs (${[...leftovers.get(node)!].join(' ')}) are not checked`,
      );
      leftovers.delete(node);
    }
  }
  let closed = false;

  const linkOf = (node: string): NodeLink => links.get(node) ?? LINK_UP;

  function apply(node: string, step: LinkStep): void {
    if (closed) return;
    const before = linkOf(node);
    links.set(node, step.link);
    if (step.link.kind !== before.kind) logChange(node, before, step.link);
    // A new reason while still cut off (connection refused, then host key unknown…): the allocator shows the latest.
    const why = (l: NodeLink) => (l.kind === 'lost' || l.kind === 'down' ? l.why : null);
    if (before.kind !== 'up' && why(step.link) !== null && why(step.link) !== why(before) && !step.actions.includes('stop_grants'))
      tellAllocator(node, false);
    armTimer(node);
    for (const a of step.actions) act(node, a);
  }

  function logChange(node: string, before: NodeLink, now: NodeLink): void {
    if (now.kind === 'lost')
      rt.log(`node ${node} unreachable (${now.why}): no new jobs there; its running jobs are kept for ${opts.downAfterMs / 1000} s`);
    else if (now.kind === 'down' && before.kind === 'lost')
      rt.log(`node ${node} is down: unreachable for ${opts.downAfterMs / 1000} s (${now.why})`);
    else if (now.kind === 'returning') rt.log(`node ${node} answers again: killing what is left of its node_failed jobs`);
    else if (now.kind === 'up') rt.log(`node ${node} is back in use`);
  }

  function armTimer(node: string): void {
    const at = downDeadline(linkOf(node), opts.downAfterMs);
    const old = timers.get(node);
    if (at === null) {
      if (old) clearTimeout(old);
      timers.delete(node);
      return;
    }
    if (old) return; // the deadline of a lost link never moves
    const t = setTimeout(
      () => {
        timers.delete(node);
        apply(node, linkTick(linkOf(node), rt.now(), opts.downAfterMs));
      },
      Math.max(0, at - rt.now()),
    );
    t.unref();
    timers.set(node, t);
  }

  function tellAllocator(node: string, reachable: boolean): void {
    const l = linkOf(node);
    const reason = !reachable && (l.kind === 'lost' || l.kind === 'down') ? plainSshProblem(l.why) : undefined;
    void rt.allocator
      .request({ type: 'nodeLink', user: rt.user, node, reachable, ...(reason === undefined ? {} : { reason: reason.slice(0, 1024) }) })
      .then((r) => {
        if (r.type === 'error') rt.log(`the allocator refused the link state of node ${node}: ${r.message}`);
        if (reachable) dispatcher.poke();
      })
      .catch((err: Error) => rt.log(`the allocator did not take the link state of node ${node}: ${err.message}`));
  }

  function act(node: string, action: LinkAction): void {
    switch (action) {
      case 'stop_grants':
        tellAllocator(node, false);
        return;
      case 'resume_grants':
        tellAllocator(node, true);
        return;
      case 'fail_jobs':
        opts.showDown(node, true);
        failJobs(node);
        return;
      case 'show_up':
        opts.showDown(node, false);
        return;
      case 'reclaim':
        return void reclaim(node);
    }
  }

  /** Every running job of a down node becomes node_failed (master/job-events.ts) and gives its slot back. */
  function failJobs(node: string, why = 'is down'): number[] {
    const { failed, effects } = failNodeJobs(rt.state, node, rt.now());
    if (failed.length === 0) return failed;
    const ids = leftovers.get(node) ?? new Set<number>();
    for (const id of failed) ids.add(id);
    leftovers.set(node, ids);
    void carryOut(rt, dispatcher, [
      ...effects,
      { type: 'setMeta', key: LEFTOVERS_KEY, value: formatLeftovers(leftovers) },
      { type: 'log', text: `node ${node} ${why}: job${failed.length === 1 ? '' : 's'} ${failed.join(' ')} now node_failed` },
    ]);
    void rt.committer
      .flush()
      .catch(() => undefined)
      .then(() => Promise.all(failed.map((id) => dispatcher.release(id, 'node_failed'))))
      .finally(() => dispatcher.poke());
    return failed;
  }

  /**
   * Kill whatever is left of the node's node_failed jobs, and make sure it is
   * gone (its whole process group, the wrapper's children included): killed
   * again while anything of it lives, up to KILL_ROUNDS times. The node takes
   * jobs again once that is done.
   */
  async function reclaim(node: string, gone = false): Promise<void> {
    const ids = [...(leftovers.get(node) ?? [])];
    try {
      for (const id of ids) {
        const found = await rt.executor.adopt(id, null, node);
        // Read at once: a job found ended stops being watched in a moment. Its group may still have members.
        const pid = rt.executor.pidOf(id);
        let gone = true;
        if (pid !== null) {
          if (found === 'running') rt.log(`node ${node}: job ${id} (node_failed) was still running there: killing it`);
          gone = false;
          for (let round = 1; round <= KILL_ROUNDS && !gone; round++) {
            gone = await rt.executor.killLeftover(id, pid, rt.killGraceMs);
            if (!gone)
              rt.log(
                `node ${node}: job ${id} (node_failed): processes of its group ${pid} still alive after kill ${round}${round < KILL_ROUNDS ? ': killing again' : ''}`,
              );
          }
          if (gone && found === 'running')
            rt.log(`node ${node}: job ${id} (node_failed): nothing of it is left (process group ${pid} gone)`);
          else if (gone) rt.log(`node ${node}: job ${id} (node_failed) had ended; its process group ${pid} is gone`);
          else
            rt.log(
              `node ${node}: job ${id} (node_failed): could not confirm that its process group ${pid} is gone; it stays listed as a leftover`,
            );
        }
        // Its end, if still to come, is of no interest: the job is node_failed, and may be run again.
        rt.executor.abandon(id);
        rt.executor.forget(id);
        if (gone) leftovers.get(node)?.delete(id);
      }
    } catch (err) {
      if (gone) {
        rt.log(`node ${node} is gone and does not answer (${(err as Error).message}): what is left of its jobs is not checked`);
        leftovers.delete(node);
      } else apply(node, linkLost(linkOf(node), (err as Error).message, rt.now()));
      return;
    } finally {
      rt.committer.setMeta(LEFTOVERS_KEY, formatLeftovers(leftovers));
    }
    if ((leftovers.get(node)?.size ?? 0) === 0 || gone) leftovers.delete(node);
    await rt.committer.flush().catch(() => undefined);
    if (!gone) apply(node, linkReclaimed(linkOf(node)));
  }

  // Nodes with leftovers from an earlier life start as down and are reclaimed at once (or when they answer).
  for (const node of leftovers.keys()) {
    links.set(node, { kind: 'down', since: rt.now(), why: 'node_failed jobs to reclaim' });
    opts.showDown(node, true);
    tellAllocator(node, false);
    apply(node, linkBack(linkOf(node)));
  }

  return {
    link(node, problem) {
      apply(node, problem === null ? linkBack(linkOf(node)) : linkLost(linkOf(node), problem, rt.now()));
    },
    gone(node, why) {
      if (closed) return;
      const t = timers.get(node);
      if (t) clearTimeout(t);
      timers.delete(node);
      links.delete(node);
      const failed = failJobs(node, `is gone (${why})`);
      // Once what is left of them is killed (or the node no longer answers: its pilot took them along), --retry applies.
      const retry = () => void carryOut(rt, dispatcher, retryNodeGone(rt.state, failed, rt.now()));
      if (leftovers.has(node)) void reclaim(node, true).then(retry);
      else retry();
    },
    leftoverOn(jobId) {
      for (const [node, ids] of leftovers) if (ids.has(jobId)) return node;
      return null;
    },
    close() {
      closed = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
