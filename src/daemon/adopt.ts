/**
 * Restore after a restart: every job the store says is running is handed to
 * its executor. A job still running is watched again (its pid recorded if the
 * previous life never learnt it; a pending kill resumed); one that ended while
 * no master ran has its end reported through the executor; one whose launch
 * provably never happened goes back to the head of the queue in its old
 * order, or ends `undone` if it was killed meanwhile. Nothing is ever run
 * twice and nothing running is killed.
 */
import type { Job } from '../protocol/job.js';
import * as life from '../master/lifecycle.js';
import { queuePositions, update } from '../master/state.js';
import type { Dispatcher, Runtime } from './dispatch.js';

export async function adoptRunning(rt: Runtime, dispatcher: Dispatcher, jobs: Job[]): Promise<void> {
  const { state, executor, committer, log } = rt;
  const requeued: number[] = [];
  for (const job of jobs) {
    if (job.state.type !== 'running') continue;
    const result = await executor.adopt(job.id, job.state.pid, job.state.node);
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
    state.queue = [...requeued, ...state.queue.filter((id) => !first.has(id))];
    for (const [id, pos] of queuePositions(state)) committer.putJob(state.jobs.get(id)!, pos);
  }
  await committer.flush();
}
