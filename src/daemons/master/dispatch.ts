/**
 * Running the queue: on every event that can free or need a slot (submit, job
 * end, kill, restore) one dispatch pass walks the queue in order, asks the
 * allocator for a slot per job, marks granted jobs running, commits them in
 * one transaction, and only then launches them — so a master killed at any
 * moment never runs a job twice. A job that does not fit now never blocks a
 * later one that does.
 */
import type { Job, Outcome } from '../../protocol/job.js';
import * as life from '../../master/lifecycle.js';
import { queuePos, running as runningJobs, update, type MasterState } from '../../master/state.js';
import type { Committer } from '../../store/group-commit.js';
import { nodeNotReached, type Executor } from '../../executor/executor.js';
import { jobTag, shellQuote, TAG_VAR } from '../../executor/wrapper.js';
import { QpyError } from '../../errors.js';
import { adoptRunning } from './adopt.js';
import type { AllocatorLink } from './embedded-allocator.js';
import type { AllocatorToMaster } from '../../protocol/master-allocator.js';
import type { Settings } from '../../protocol/settings.js';
import { withSourcedFiles } from '../../master/settings.js';
import { hasDeps } from '../../master/deps.js';
import { DepMemo, unqueueNeverRunnable } from '../../master/queue-gates.js';
import type { Log } from '../shared/log.js';

/** Smallest gap between the starts of two dispatch passes. */
const PASS_GAP_MS = 5;
/** Slot requests one pass keeps in flight. */
const REQUEST_WINDOW = 32;

export interface Runtime {
  state: MasterState;
  user: string;
  committer: Committer;
  executor: Executor;
  allocator: AllocatorLink;
  log: Log;
  now(): number;
  killGraceMs: number;
  /** The user's settings (`qpy config`): sourceTheseFiles is applied at each launch. */
  settings: Settings;
  /** Set while the master shuts down: nothing new is started. */
  stopping: boolean;
}

/** Why a queued job did not start at its last request: the allocator's refusal, the shared allocator away, or this user refused by it. */
export type Refusal = 'no_room' | 'no_node' | 'unreachable' | 'not_allowed';

export interface Dispatcher {
  /** Ask for a dispatch pass soon (coalesced: many events, one pass). */
  poke(): void;
  /** Record that a job's process ended (after its kill, if one is under way, has finished). */
  ended(jobId: number, outcome: Outcome): void;
  /** Kill a running job whose kill was recorded: TERM, then KILL after the grace period. */
  kill(job: Job): void;
  /** Give a job's slot back to the allocator. */
  release(jobId: number): Promise<void>;
  /** Resolves when no pass is running or pending. */
  idle(): Promise<void>;
  /** The allocator's last answer to a queued job that did not start (for `qpy why`), or null if not asked yet. */
  refusal(jobId: number): Refusal | null;
}

export function createDispatcher(rt: Runtime): Dispatcher {
  let running = false;
  let lastPassAt = -Infinity;
  let again = false;
  let idleWaiters: (() => void)[] = [];
  /** Slots of ended jobs, given back when the next pass starts. */
  const endedSlots: number[] = [];
  /** Why queued jobs did not start at their last request (kept for `qpy why`; dropped when they start). */
  const refusals = new Map<number, Refusal>();

  function poke(): void {
    if (running) {
      again = true;
      return;
    }
    running = true;
    // Passes start at most every PASS_GAP_MS: under a stream of job ends, one pass (and one commit)
    // then starts several jobs instead of one, at the cost of a few milliseconds of latency.
    const wait = lastPassAt + PASS_GAP_MS - performance.now();
    const start = () => {
      lastPassAt = performance.now();
      for (const id of endedSlots.splice(0)) void release(id);
      pass()
        .catch((err) => rt.log(`dispatch failed: ${(err as Error).stack ?? err}`))
        .finally(() => {
          running = false;
          if (again) {
            again = false;
            poke();
          } else {
            const w = idleWaiters;
            idleWaiters = [];
            for (const f of w) f();
          }
        });
    };
    if (wait > 0) setTimeout(start, wait);
    else setImmediate(start);
  }

  async function pass(): Promise<void> {
    const { state } = rt;
    if (state.paused || rt.stopping || state.queue.length === 0) return;
    const granted: Job[] = [];
    let noRoomFrom = Infinity; // smallest core count refused for lack of room
    let outcome: 'more' | 'enough' | 'abort' = 'more';

    /** One reply, in request order: 'enough' stops asking (later grants are still taken), 'abort' gives them back. */
    const take = (job: Job, reply: AllocatorToMaster): 'more' | 'enough' | 'abort' => {
      if (rt.stopping || state.paused) {
        if (reply.type === 'granted') void release(job.id);
        return 'abort';
      }
      if (reply.type === 'granted') {
        const current = state.jobs.get(job.id);
        if (current?.state.type !== 'queue') {
          // Killed while we asked: give the slot straight back.
          void release(job.id);
          return 'more';
        }
        refusals.delete(job.id);
        const started = update(state, life.start(current, reply.node, rt.now()));
        rt.committer.putJob(started, null);
        granted.push(started);
        return 'more';
      }
      if (reply.type === 'refused') {
        refusals.set(job.id, reply.reason);
        if (reply.reason === 'no_room') noRoomFrom = Math.min(noRoomFrom, job.spec.cores);
        return noRoomFrom <= 1 ? 'enough' : 'more';
      }
      if (reply.type === 'error' && reply.code === 'ALLOCATOR_UNREACHABLE') refusals.set(job.id, 'unreachable');
      const refused = reply.type === 'error' && (reply.code === 'NOT_ALLOWED' || reply.code === 'UNAUTHENTICATED');
      if (refused) refusals.set(job.id, 'not_allowed');
      // The shared allocator away, or refusing this user: jobs wait, and the link reports it once.
      if (!refused && (reply.type !== 'error' || reply.code !== 'ALLOCATOR_UNREACHABLE'))
        rt.log(`allocator answered ${reply.type} to a request: ${JSON.stringify(reply)}`);
      return 'abort';
    };
    const settle = (job: Job, reply: AllocatorToMaster): void => {
      if (outcome === 'abort') {
        if (reply.type === 'granted') void release(job.id);
        return;
      }
      const next = take(job, reply);
      if (next !== 'more') outcome = next;
    };

    // Jobs whose dependencies can never be met end undone, with the reason; those still waiting are skipped in the walk.
    const deps = new DepMemo(state.jobs);
    const never = unqueueNeverRunnable(state, rt.now(), deps);
    for (const j of never) rt.committer.putJob(j, null);
    if (never.length > 0) {
      rt.log(`jobs ${never.map((j) => j.id).join(' ')} will never run: a job they needed did not succeed`);
      void rt.committer.flushSoon().then(poke, () => undefined); // their own dependents are decided in the next pass
    }

    // Arrays capped with %N: how many of each run now, counted once per pass, and only if a capped job is met.
    let groupRunning: Map<number, number> | null = null;
    const capOf = new Map<number, number>();
    const countGroups = (): Map<number, number> => {
      const m = new Map<number, number>();
      for (const j of runningJobs(state)) if (j.spec.group?.cap !== undefined) m.set(j.spec.group.id, (m.get(j.spec.group.id) ?? 0) + 1);
      return m;
    };

    // Requests are pipelined (up to REQUEST_WINDOW in flight, answered in order), so the releases
    // sent at the start of the pass and the requests that reuse their cores leave together.
    const inflight: { job: Job; reply: Promise<AllocatorToMaster> }[] = [];
    // Members of one array or load share their cap, cores and dependencies: where one cannot be asked for, the rest of them are skipped.
    const walk = state.queue.walk();
    for (const id of walk) {
      if (outcome !== 'more') break;
      const gid = state.jobs.groupOf(id);
      if (gid !== undefined && groupRunning !== null && (groupRunning.get(gid) ?? 0) >= (capOf.get(gid) ?? Infinity)) {
        walk.skipThrough(state.jobs.runEnd(id)); // a full capped array: its jobs are not even read
        continue;
      }
      const job = state.jobs.get(id);
      if (job?.state.type !== 'queue' || job.state.held) continue;
      if (job.spec.cores >= noRoomFrom || (hasDeps(job.spec) && deps.of(job.spec).kind !== 'ready')) {
        walk.skipThrough(state.jobs.runEnd(id));
        continue;
      }
      const g = job.spec.group;
      if (g?.cap !== undefined) {
        groupRunning ??= countGroups();
        capOf.set(g.id, g.cap);
        const n = groupRunning.get(g.id) ?? 0;
        if (n >= g.cap) continue;
        groupRunning.set(g.id, n + 1); // counted as it is asked for: a refusal only makes the cap stricter for this pass
      }
      const reply = rt.allocator.request({
        type: 'request',
        user: rt.user,
        jobId: id,
        demand: { cores: job.spec.cores, memGB: job.spec.memGB, attrs: job.spec.attrs },
        queueSize: state.queue.length,
      });
      inflight.push({ job, reply });
      if (inflight.length >= REQUEST_WINDOW) {
        const first = inflight.shift()!;
        settle(first.job, await first.reply);
      }
    }
    for (const f of inflight) settle(f.job, await f.reply);
    if (granted.length === 0) return;
    try {
      await rt.committer.flush();
    } catch {
      // Not durable, so not launched: back to the head of the queue, slots returned.
      for (const job of granted.reverse()) {
        const current = state.jobs.get(job.id);
        if (current?.state.type === 'running' && current.state.pid === null) update(state, life.requeue(current), { front: true });
        void release(job.id);
      }
      return;
    }
    await Promise.all(granted.map(launch));
  }

  async function launch(job: Job): Promise<void> {
    if (job.state.type !== 'running') return;
    const { spec } = job;
    try {
      const { pid } = await rt.executor.launch({
        jobId: job.id,
        node: job.state.node,
        command: withSourcedFiles(
          rt.settings.sourceTheseFiles,
          spec.copy ? shellQuote(spec.copy.path) + spec.command.slice(spec.copy.wordEnd) : spec.command,
        ),
        cwd: spec.cwd,
        env: {
          QPY_JOB_ID: String(job.id),
          QPY_NODE: job.state.node,
          QPY_N_CORES: String(spec.cores),
          QPY_MEM: memText(spec.memGB),
          QPY_ATTEMPT: String((job.attempts?.length ?? 0) + 1),
          ...(spec.group ? { QPY_ARRAY_ID: String(spec.group.id), QPY_ARRAY_INDEX: String(spec.group.index) } : {}),
          [TAG_VAR]: jobTag(rt.user, job.id, (job.attempts?.length ?? 0) + 1),
        },
      });
      const current = rt.state.jobs.get(job.id);
      if (current?.state.type === 'running' && current.state.pid === null) {
        // Kept in memory only: a restarted master learns the pid from the job's run file
        // (adopt), so one write per job is saved on the hot path.
        const withPid = update(rt.state, life.launched(current, pid));
        if (withPid.state.type === 'running' && withPid.state.killRequested) kill(withPid);
      }
    } catch (err) {
      launchFailed(job.id, err as Error);
    }
  }

  function launchFailed(jobId: number, err: Error): void {
    const current = rt.state.jobs.get(jobId);
    if (current?.state.type !== 'running' || current.state.pid !== null) return; // its node went down meanwhile
    if (nodeNotReached(err)) {
      // Nothing started (the node is now reported unreachable to the allocator): queue it again, first in line.
      rt.log(`job ${jobId} not started, node ${current.state.node} unreachable: queued again`);
      const queued = update(rt.state, life.requeue(current), { front: true });
      if (current.state.killRequested) rt.committer.putJob(update(rt.state, life.unqueue(queued, rt.now())), null);
      else rt.committer.putJob(queued, queued.id); // stored by submission order; first in line until a restart
      // Released at the start of the next pass, in the same turn as the requests that may reuse the slot:
      // the shared daemon then never shows the core idle in between.
      endedSlots.push(jobId);
      poke();
    } else if (err instanceof QpyError && err.code === 'NODE_LINK_LOST') {
      // The link died mid-launch: the job may run. Find out as for a restarted master.
      rt.log(`launch of job ${jobId}: ${err.message}; adopting it when the node answers`);
      void adoptRunning(rt, dispatcher, [current]).catch((e: Error) => rt.log(`adoption of job ${jobId} failed: ${e.message}`));
    } else {
      // The wrapper could not be started at all: the job never ran; it ends as failed, with the reason logged.
      rt.log(`launch of job ${jobId} failed: ${err.message}`);
      ended(jobId, { type: 'error', message: err.message });
    }
  }

  async function release(jobId: number): Promise<void> {
    const reply = await rt.allocator.request({ type: 'release', user: rt.user, jobId, queueSize: rt.state.queue.length });
    if (reply.type === 'error') rt.log(`release of job ${jobId}: ${reply.message}`);
  }

  /** Kills under way: a job's end is recorded only once its whole process group is gone. */
  const killing = new Map<number, Promise<void>>();

  function kill(job: Job): void {
    if (job.state.type !== 'running' || job.state.pid === null || killing.has(job.id)) return;
    const done = rt.executor
      .kill(job.id, job.state.pid, rt.killGraceMs)
      .catch((err) => rt.log(`kill of job ${job.id}: ${(err as Error).message}`))
      .finally(() => killing.delete(job.id));
    killing.set(job.id, done);
  }

  function ended(jobId: number, outcome: Outcome): void {
    const pending = killing.get(jobId);
    if (pending) {
      void pending.then(() => ended(jobId, outcome));
      return;
    }
    const job = rt.state.jobs.get(jobId);
    // A node_failed job's end, seen when its node came back: already final, only its run record goes.
    if (job?.state.type === 'node_failed') {
      rt.executor.forget(jobId);
      return;
    }
    if (job?.state.type !== 'running') return;
    const finished = update(rt.state, life.end(job, outcome, rt.now()));
    let done = finished;
    if (life.retriesLeft(finished)) {
      // `--retry N`: queued again under the same ID, this run kept as an attempt.
      done = update(rt.state, life.requeueFinal(finished, rt.now()));
      rt.log(`job ${jobId} failed; queued again (attempt ${(done.attempts?.length ?? 0) + 1} of ${(job.spec.retries ?? 0) + 1})`);
      rt.committer.putJob(done, queuePos(done));
    } else rt.committer.putJob(done, null);
    // No reply waits on this commit, and the run file that records the end stays until it is done.
    rt.committer.flushSoon().then(
      () => rt.executor.forget(jobId),
      () => undefined,
    );
    // Released at the start of the next pass, in the same turn as the requests that may reuse the slot:
    // the shared daemon then never shows the core idle in between.
    endedSlots.push(jobId);
    poke();
  }

  const dispatcher: Dispatcher = {
    poke,
    ended,
    kill,
    release,
    idle: () => (running ? new Promise<void>((r) => idleWaiters.push(r)) : Promise.resolve()),
    refusal: (jobId) => refusals.get(jobId) ?? null,
  };
  return dispatcher;
}

/** QPY_MEM as the original wrote it (a Python float: 5.0, 0.01). */
export function memText(gb: number): string {
  return Number.isInteger(gb) ? gb.toFixed(1) : String(gb);
}
