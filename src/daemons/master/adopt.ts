/**
 * Restore after a restart: every job the store says is running is handed to
 * its executor. A job still running is watched again (its pid recorded if the
 * previous life never learnt it; a pending kill resumed); one that ended while
 * no master ran has its end reported through the executor; one whose launch
 * provably never happened goes back to the head of the queue in its old
 * order, or ends `undone` if it was killed meanwhile. Nothing is ever run
 * twice and nothing running is killed. A job whose node cannot be reached
 * now stays `running` and is adopted again every RETRY_MS until it can (a
 * try costs nothing while its node's link is known to be down: the executor
 * fails it at once), so a job whose launch was lost in flight is settled
 * within a second of its node's return. Jobs queued again start a dispatch
 * pass.
 */
import type { Job } from '../../protocol/job.js';
import * as life from '../../master/lifecycle.js';
import { JobQueue } from '../../master/job-queue.js';
import { queuePositions, update } from '../../master/state.js';
import type { Dispatcher, Runtime } from './dispatch.js';

const RETRY_MS = 1000;

/** Jobs whose adoption failed already (the failure is logged once per job, not at every retry). */
const failedBefore = new Set<number>();

export async function adoptRunning(rt: Runtime, dispatcher: Dispatcher, jobs: Job[]): Promise<void> {
  const { state, executor, committer, log } = rt;
  const requeued: number[] = [];
  const unreachable: Job[] = [];
  for (const job of jobs) {
    if (job.state.type !== 'running') continue;
    let result: Awaited<ReturnType<typeof executor.adopt>>;
    try {
      result = await executor.adopt(job.id, job.state.pid, job.state.node);
    } catch (err) {
      if (!failedBefore.has(job.id))
        log(
          `job ${job.id} on node ${job.state.node} cannot be adopted now (${(err as Error).message}); trying again until its node answers`,
        );
      failedBefore.add(job.id);
      unreachable.push(job);
      continue;
    }
    if (failedBefore.delete(job.id)) log(`job ${job.id}: node ${job.state.node} answers again`);
    if (result === 'never_started') {
      await dispatcher.release(job.id);
      const queued = update(state, life.requeue(job));
      if (job.state.killRequested) {
        committer.putJob(update(state, life.unqueue(queued, rt.now())), null);
        log(`job ${job.id} was killed before it started: undone`);
      } else {
        requeued.push(job.id);
        log(`job ${job.id} was never started: queued again`);
      }
    } else if (result === 'running') {
      let current = job;
      const pid = executor.pidOf(job.id);
      if (job.state.pid === null && pid !== null) {
        current = update(state, life.launched(job, pid));
        committer.putJob(current, null);
      }
      if (current.state.type === 'running' && current.state.killRequested) dispatcher.kill(current);
    }
  }
  if (requeued.length > 0) {
    const first = new Set(requeued);
    state.queue = new JobQueue([...requeued, ...state.queue.filter((id) => !first.has(id))]);
    for (const [id, pos] of queuePositions(state)) committer.putJob(state.jobs.get(id)!, pos);
  }
  await committer.flush();
  if (requeued.length > 0) dispatcher.poke();
  if (unreachable.length > 0) {
    setTimeout(() => {
      if (rt.stopping) return;
      const still = unreachable.flatMap((j) => {
        const current = state.jobs.get(j.id);
        if (current?.state.type === 'running') return [current];
        failedBefore.delete(j.id); // given up meanwhile (node_failed, say)
        return [];
      });
      void adoptRunning(rt, dispatcher, still).catch((err: Error) => log(`adoption retry failed: ${err.message}`));
    }, RETRY_MS).unref();
  }
}
