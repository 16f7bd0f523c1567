/**
 * Running the queue: on every event that can free or need a slot (submit,
 * job end, kill, restore) one dispatch pass is planned by the pure core
 * (master/dispatch-plan.ts) and driven here: each slot request goes to the
 * allocator (pipelined, answered in order), each answer goes back to the
 * plan, the granted jobs are committed as running in one transaction and
 * only then launched, so a master killed at any moment never runs a job
 * twice. What follows a launch, a failed launch or a job's end is decided
 * in master/job-events.ts; this module carries it out.
 */
import type { Job } from '../../protocol/job.js';
import { gpuQueueOf, PassPlan, passWanted, settleDependants, slotRequest } from '../../master/dispatch-plan.js';
import type { Effect } from '../../master/effects.js';
import { jobEnded, launched, launchFailed, launchFailureClass, type RunEnd } from '../../master/job-events.js';
import type { AllocatorToMaster } from '../../protocol/master-allocator.js';
import { QpyError } from '../../errors.js';
import { nodeNotReached } from '../../executor/executor.js';
import { adoptRunning } from './adopt.js';
import type { Dispatcher, Runtime } from './context.js';
import { carryOut } from './effects.js';
import { launchSpec } from './launch-spec.js';

/**
 * Smallest gap between the starts of two dispatch passes: 2 ms. It was 5 ms
 * while each pass's commit was an fsync, so that one pass started several
 * jobs; once that commit survived a crash without one (group-commit.ts), 5 ms
 * only delayed every job (370 → 650 jobs/s of `/bin/true` at 8 slots), and
 * it became none. But with none, short jobs ending one by one cost a pass
 * each: a commit, an allocator round and an agent frame per job. A gap lets
 * the ends of that moment share them, and delays a start only just after
 * another pass: 1 ms gave 791 → 879 jobs/s (medians of 3, in turns), the
 * master's CPU per job 0.45 → 0.37 ms and the agent's 0.72 → 0.65 ms; 2 ms
 * then gave 52-53 % → 56-58 % of the `xargs -P` floor in bench/peers (two
 * runs of each, in turns), while 3 ms left the CPU idle longer for no more.
 * An end alone (no pass in the last 2 ms) is not delayed.
 */
const PASS_GAP_MS = 2;
/** Slot requests one pass keeps in flight. */
const REQUEST_WINDOW = 32;

export function createDispatcher(rt: Runtime): Dispatcher {
  let running = false;
  let lastPassAt = -Infinity;
  let again = false;
  let idleWaiters: (() => void)[] = [];
  /** Slots of ended jobs, given back when the next pass starts. */
  const endedSlots: { jobId: number; ended: string | undefined }[] = [];
  /** Launches sent and not yet answered: a pass does not wait for them (the next one may start meanwhile); idle() does. */
  const launching = new Set<Promise<void>>();
  /** Kills under way: a job's end is recorded only once its whole process group is gone. */
  const killing = new Map<number, Promise<void>>();

  const run = (effects: readonly Effect[]): Promise<void> => carryOut(rt, dispatcher, effects);
  const runLogged = (effects: readonly Effect[]): void => void run(effects).catch((err: Error) => rt.log(`${err.message}`));

  function poke(): void {
    if (running) {
      again = true;
      return;
    }
    running = true;
    // Passes start at most every PASS_GAP_MS; ends that come while one runs share the next.
    const wait = lastPassAt + PASS_GAP_MS - performance.now();
    const start = () => {
      lastPassAt = performance.now();
      for (const s of endedSlots.splice(0)) void release(s.jobId, s.ended);
      pass()
        .catch((err) => rt.log(`dispatch failed: ${(err as Error).stack ?? err}`))
        .finally(() => {
          running = false;
          if (again) {
            again = false;
            poke();
          } else wakeIdle();
        });
    };
    if (wait > 0) setTimeout(start, wait);
    else setImmediate(start);
  }

  function wakeIdle(): void {
    if (running || launching.size > 0) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  }

  async function pass(): Promise<void> {
    const { state } = rt;
    if (!passWanted(state, rt.stopping)) return;
    const deps = settleDependants(state, rt.now());
    await run(deps.effects);
    const plan = new PassPlan(state, deps.deps, rt.refusals);
    const answer = (job: Job, reply: AllocatorToMaster) => run(plan.answer(job, reply, rt.stopping || state.paused, rt.now()));
    // Requests are pipelined (up to REQUEST_WINDOW in flight, answered in order), so the releases
    // sent at the start of the pass and the requests that reuse their cores leave together.
    const inflight: { job: Job; reply: Promise<AllocatorToMaster> }[] = [];
    const gpuQueue = gpuQueueOf(state);
    for (let job = plan.next(); job !== null; job = plan.next()) {
      // The queue as it will be if the requests in flight are granted: a grant's reply counts this one out too.
      const queued = state.queue.length - inflight.length;
      inflight.push({ job, reply: rt.allocator.request(slotRequest(rt.user, job, queued, gpuQueue)) });
      if (inflight.length >= REQUEST_WINDOW) {
        const first = inflight.shift()!;
        await answer(first.job, await first.reply);
      }
    }
    for (const f of inflight) await answer(f.job, await f.reply);
    if (plan.granted.length === 0) return;
    try {
      // Durable through a crash of the master (not a power cut), which is all a launch needs (group-commit.ts).
      await rt.committer.flush('crash');
    } catch {
      await run(plan.commitFailed());
      return;
    }
    // Launched, not waited for: the agent's answers come while the next pass runs.
    const sent = run(plan.launches()).catch((err: Error) => rt.log(`launch failed: ${err.message}`));
    launching.add(sent);
    void sent.finally(() => {
      launching.delete(sent);
      wakeIdle();
    });
  }

  async function launch(job: Job): Promise<void> {
    if (job.state.type !== 'running') return;
    try {
      const { pid } = await rt.executor.launch(launchSpec(job, job.state.node, rt.user, rt.settings, rt.killGraceMs));
      runLogged(launched(rt.state, job.id, pid));
      rt.web.changed(); // `starting` became `running`, kept in memory only
    } catch (err) {
      const failure = launchFailureClass(nodeNotReached(err), err instanceof QpyError ? err.code : null);
      runLogged(launchFailed(rt.state, job.id, failure, (err as Error).message, rt.now()));
    }
  }

  async function release(jobId: number, ended?: string): Promise<void> {
    const reply = await rt.allocator.request({
      type: 'release',
      user: rt.user,
      jobId,
      queueSize: rt.state.queue.length,
      ...(ended !== undefined ? { ended } : {}),
      ...(rt.state.gpuQueued ? { gpuQueue: gpuQueueOf(rt.state) } : {}),
    });
    if (reply.type === 'error') rt.log(`release of job ${jobId}: ${reply.message}`);
  }

  function kill(job: Job): void {
    if (job.state.type !== 'running' || job.state.pid === null || killing.has(job.id)) return;
    const done = rt.executor
      .kill(job.id, job.state.pid, rt.killGraceMs)
      .catch((err) => rt.log(`kill of job ${job.id}: ${(err as Error).message}`))
      .finally(() => killing.delete(job.id));
    killing.set(job.id, done);
  }

  function ended(jobId: number, end: RunEnd): void {
    const pending = killing.get(jobId);
    if (pending) {
      void pending.then(() => ended(jobId, end));
      return;
    }
    runLogged(jobEnded(rt.state, jobId, end, rt.now()));
  }

  const dispatcher: Dispatcher = {
    poke,
    ended,
    kill,
    launch,
    release,
    releaseAtNextPass: (jobId, ended) => void endedSlots.push({ jobId, ended }),
    adopt: (jobs) =>
      void adoptRunning(rt, dispatcher, jobs).catch((e: Error) =>
        rt.log(`adoption of job${jobs.length === 1 ? '' : 's'} ${jobs.map((j) => j.id).join(' ')} failed: ${e.message}`),
      ),
    idle: () => (running || launching.size > 0 ? new Promise<void>((r) => idleWaiters.push(r)) : Promise.resolve()),
  };
  return dispatcher;
}
