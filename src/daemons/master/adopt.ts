/**
 * Restore after a restart: every job the store says is running is handed to
 * its executor, and what it finds is decided in master/job-events.ts
 * (adoptAnswer): a job still running is watched again (its pid recorded if
 * the previous life never learnt it; a pending kill resumed); one that ended
 * while no master ran has its end reported through the executor; one whose
 * launch provably never happened goes back to the head of the queue in its
 * old order, or ends `undone` if it was killed meanwhile. Nothing is ever
 * run twice and nothing running is killed. A job whose node cannot be
 * reached now stays `running` and is adopted again every RETRY_MS until it
 * can (a try costs nothing while its node's link is known to be down: the
 * executor fails it at once), so a job whose launch was lost in flight is
 * settled within a second of its node's return. Jobs queued again start a
 * dispatch pass.
 */
import type { Job } from '../../protocol/job.js';
import type { Effect } from '../../master/effects.js';
import { adoptAnswer, requeueFirst, type Adopted } from '../../master/job-events.js';
import type { Dispatcher, Runtime } from './context.js';
import { carryOut } from './effects.js';

const RETRY_MS = 1000;

export async function adoptRunning(rt: Runtime, dispatcher: Dispatcher, jobs: Job[]): Promise<void> {
  const { state, executor, log } = rt;
  const failedBefore = rt.adoptFailures;
  const requeued: number[] = [];
  const unreachable: Job[] = [];
  for (const job of jobs) {
    if (job.state.type !== 'running') continue;
    let found: Adopted;
    try {
      found = await executor.adopt(job.id, job.state.pid, job.state.node);
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
    const current = state.jobs.get(job.id) ?? job;
    const answer = adoptAnswer(state, current, found, executor.pidOf(job.id), rt.now());
    await carryOut(rt, dispatcher, answer.effects);
    if (answer.requeued) requeued.push(job.id);
  }
  const effects: Effect[] = [...requeueFirst(state, requeued), { type: 'commit' }];
  if (requeued.length > 0) effects.push({ type: 'dispatch' });
  await carryOut(rt, dispatcher, effects);
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
