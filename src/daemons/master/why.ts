/**
 * `qpy why ID`: why a queued job has not started, in one or two plain
 * sentences, from what the master knows (pause, hold, dependencies, the
 * allocator's last answer for it, whether any node could ever run it,
 * whether the shared allocator is reachable and accepts this user), and when
 * no node fits, why not, node by node (allocator/feasible.ts explainNodes:
 * down, drained, unreachable with the SSH error, cores, memory after the
 * system reserve).
 */
import { QpyError } from '../../errors.js';
import { depState, formatIds } from '../../master/deps.js';
import { explainNodes } from '../../allocator/feasible.js';
import type { Job } from '../../protocol/job.js';
import type { HandlerContext } from './handlers.js';

const UNREACHABLE = 'qpy-multiuser, which shares out the cluster, is not reachable: queued jobs wait for it (running ones go on).';

/** Why a queued job cannot start while the shared allocator refuses this user. */
export function deniedWhy(jobId: number, denied: QpyError): string {
  const what = denied.code === 'NOT_ALLOWED' ? `not allowed: ${denied.message}` : denied.message;
  return `Job ${jobId} cannot start: ${what}. ${denied.hint ? `${denied.hint.charAt(0).toUpperCase() + denied.hint.slice(1)}.` : ''}`.trimEnd();
}

/** One line per node saying why it cannot take the job now (empty if the status cannot be had). */
async function byNode(ctx: HandlerContext, job: Job): Promise<string> {
  const reply = await ctx.allocator.request({ type: 'status', user: ctx.user });
  if (reply.type !== 'status') return '';
  const lines = explainNodes(reply.status, ctx.user, { cores: job.spec.cores, memGB: job.spec.memGB, attrs: job.spec.attrs });
  return lines.map((l) => `\n  ${l}`).join('');
}

export async function explainWait(ctx: HandlerContext, jobId: number): Promise<string> {
  const job = ctx.state.jobs.get(jobId);
  if (!job) throw new QpyError('NOT_FOUND', `No job ${jobId}.`, 'see your jobs with: qpy check');
  if (job.state.type === 'running' && job.state.pid === null)
    return `Job ${jobId} is not waiting: it is starting on ${job.state.node} (its launch there is not confirmed yet).`;
  if (job.state.type !== 'queue') return `Job ${jobId} is not waiting: it is ${job.state.type}.`;
  if (ctx.state.paused) return `Job submission is paused: no queued job starts until you run qpy ctrlQueue continue.`;
  if (job.state.held) return `Job ${jobId} is held: it starts only after qpy release ${jobId}.`;
  const d = depState(job, ctx.state.jobs);
  if (d.kind === 'waiting') {
    const ok = job.spec.afterok?.length ? ' (to succeed, for --afterok)' : '';
    return `Job ${jobId} waits for job${d.on.length === 1 ? '' : 's'} ${formatIds(d.on)} to end${ok}.`;
  }
  const denied = ctx.allocator.denied?.() ?? null;
  if (denied !== null) return deniedWhy(jobId, denied);
  if (ctx.allocator.reachable?.() === false) return UNREACHABLE;
  const feasible = await ctx.allocator.request({
    type: 'feasible',
    user: ctx.user,
    demand: { cores: job.spec.cores, memGB: job.spec.memGB, attrs: job.spec.attrs },
  });
  if (feasible.type === 'error' && feasible.code === 'ALLOCATOR_UNREACHABLE') return UNREACHABLE;
  if (feasible.type === 'feasibility' && feasible.problem !== null)
    return `No node can ever run job ${jobId}: ${feasible.problem}. Kill it, or submit it again with less.`;
  const shape = `${job.spec.cores} core${job.spec.cores === 1 ? '' : 's'} and ${job.spec.memGB} GB${job.spec.attrs ? ` on a node matching "${job.spec.attrs}"` : ''}`;
  switch (ctx.dispatcher.refusal(jobId)) {
    case 'unreachable':
      return UNREACHABLE;
    case 'not_allowed':
      return `Job ${jobId} cannot start: qpy-multiuser refused this user at its last request.`;
    case 'no_room':
      return `Your share of the cluster is in use, and no idle user has cores to lend: job ${jobId} (${shape}) starts as cores are freed.`;
    case 'no_node':
      return `No node can take job ${jobId} (${shape}) now; it starts when one can:${await byNode(ctx, job)}`;
    default: {
      const ahead = ctx.state.queue.indexOf(jobId);
      return ahead > 0
        ? `Job ${jobId} has ${ahead} job${ahead === 1 ? '' : 's'} ahead of it in your queue; it has not been asked for yet.`
        : `Job ${jobId} is about to be asked for: it should start in a moment.`;
    }
  }
}
