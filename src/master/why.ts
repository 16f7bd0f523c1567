/**
 * `qpy why ID`, decided: why a queued job has not started, in one or two
 * plain sentences (and for a job that has ended, how it went and what it
 * used, protocol/usage.ts), from what the master knows (pause, hold, dependencies,
 * the allocator's last answer for it, whether any node could ever run it,
 * whether qpy-multiuser is reachable and accepts this user). The answer
 * may need the allocator: `explainWait` then asks for a fact (`ask`), the
 * daemon fetches it and calls again with it, until there is a `text`.
 */
import type { Job } from '../protocol/job.js';
import type { AllocatorToMaster } from '../protocol/master-allocator.js';
import { QpyError } from '../errors.js';
import type { MasterCore, Refusal } from './core.js';
import { depState, formatIds } from './deps.js';
import { formatTimeLimit } from '../protocol/time-limit.js';
import { efficiencyLines } from '../protocol/usage.js';

const UNREACHABLE = 'qpy-multiuser, which shares out the cluster, is not reachable: queued jobs wait for it (running ones go on).';

/** What the daemon tells `explainWait`; `feasible` and `nodes` once asked for. */
export interface WhyFacts {
  /** Why qpy-multiuser refuses this user now, or null. */
  denied: QpyError | null;
  /** False while qpy-multiuser is away. */
  reachable: boolean;
  /** The allocator's answer to `feasible` for this job. */
  feasible?: AllocatorToMaster;
  /** One line per node saying why it cannot take the job now, then one per Slurm pool (allocator/feasible.ts explainNodes; empty without a status). */
  nodes?: string[];
}

export type WhyStep = { text: string } | { ask: 'feasible' | 'nodes' };

/** Why a queued job cannot start while qpy-multiuser refuses this user. */
export function deniedWhy(jobId: number, denied: QpyError): string {
  const what = denied.code === 'NOT_ALLOWED' ? `not allowed: ${denied.message}` : denied.message;
  return `Job ${jobId} cannot start: ${what}. ${denied.hint ? `${denied.hint.charAt(0).toUpperCase() + denied.hint.slice(1)}.` : ''}`.trimEnd();
}

/** What a job ended by a limit says first: which limit, and what to do. */
function limitSentence(job: Job): string | null {
  const s = job.state;
  if (s.type === 'timeout')
    return (
      `Job ${job.id} is not waiting: it ended timeout, stopped at its time limit of ${formatTimeLimit(job.spec.time ?? 0)}. ` +
      `Submit it again with a longer -t to let it finish.`
    );
  if (s.type !== 'out_of_memory') return null;
  if (s.by === 'kernel')
    return (
      `Job ${job.id} is not waiting: it ended out_of_memory, killed by the kernel's OOM killer when ${s.node} ran out of memory. ` +
      `Ask for what it needs with -m, so that jobs are not placed beyond the node's memory.`
    );
  const how = s.by === 'cgroup' ? 'killed by the kernel when its memory (its cgroup)' : 'stopped by its node agent when its memory';
  return (
    `Job ${job.id} is not waiting: it ended out_of_memory, ${how} went above its -m of ${job.spec.memGB} GB. ` +
    `Submit it again with a larger -m.`
  );
}

const overLimits = (jobId: number): string =>
  `qpy-multiuser refuses to start job ${jobId}: the administrator's limits changed since it was queued ` +
  `(see them with qpy status). Kill it, and submit it again within them.`;

export function explainWait(core: MasterCore, jobId: number, facts: WhyFacts): WhyStep {
  const { state } = core;
  const job = state.jobs.get(jobId);
  if (!job) throw new QpyError('NOT_FOUND', `No job ${jobId}.`, 'see your jobs with: qpy check');
  const say = (text: string): WhyStep => ({ text });
  if (job.state.type === 'running' && job.state.pid === null)
    return say(`Job ${jobId} is not waiting: it is starting on ${job.state.node} (its launch there is not confirmed yet).`);
  // An ended job: how it went (a limit said as such), and what it used (like Slurm's seff).
  const report = efficiencyLines(job)?.trimEnd() ?? null;
  const limit = limitSentence(job);
  if (limit !== null) return say(report === null ? limit : `${limit}\n${report}`);
  if (report !== null) return say(report);
  if (job.state.type !== 'queue') return say(`Job ${jobId} is not waiting: it is ${job.state.type}.`);
  if (state.paused) return say(`Job submission is paused: no queued job starts until you run qpy ctrlQueue continue.`);
  if (job.state.held) return say(`Job ${jobId} is held: it starts only after qpy release ${jobId}.`);
  const d = depState(job, state.jobs);
  if (d.kind === 'waiting') {
    const ok = job.spec.afterok?.length ? ' (to succeed, for --afterok)' : '';
    return say(`Job ${jobId} waits for job${d.on.length === 1 ? '' : 's'} ${formatIds(d.on)} to end${ok}.`);
  }
  if (facts.denied !== null) return say(deniedWhy(jobId, facts.denied));
  if (!facts.reachable) return say(UNREACHABLE);
  // Said before feasibility, which would name the limit without saying that it changed.
  if (core.refusals.get(jobId) === 'over_limits') return say(overLimits(jobId));
  const feasible = facts.feasible;
  if (feasible === undefined) return { ask: 'feasible' };
  if (feasible.type === 'error' && feasible.code === 'ALLOCATOR_UNREACHABLE') return say(UNREACHABLE);
  if (feasible.type === 'feasibility' && feasible.problem !== null)
    return say(`No node can ever run job ${jobId}: ${feasible.problem}. Kill it, or submit it again with less.`);
  const { cores, memGB, attrs } = job.spec;
  const shape = `${cores} core${cores === 1 ? '' : 's'} and ${memGB} GB${attrs ? ` on a node matching "${attrs}"` : ''}`;
  const refusal: Refusal | null = core.refusals.get(jobId) ?? null;
  switch (refusal) {
    case 'unreachable':
      return say(UNREACHABLE);
    case 'not_allowed':
      return say(`Job ${jobId} cannot start: qpy-multiuser refused this user at its last request.`);
    case 'no_room': {
      // Slurm pools (issue 18) grow the cluster: what their pilots are doing is said too.
      if (facts.nodes === undefined) return { ask: 'nodes' };
      const pools = facts.nodes.filter((l) => l.startsWith('pool '));
      return say(
        `Your share of the cluster is in use, and no idle user has cores to lend: job ${jobId} (${shape}) starts as cores are freed.` +
          pools.map((l) => `\n  ${l}`).join(''),
      );
    }
    case 'no_gpu_room':
      return say(
        `Your share of the GPUs is in use (or every GPU is), and no idle user has GPUs to lend: job ${jobId} ` +
          `(${shape}, ${job.spec.gpus ?? 0} GPU${job.spec.gpus === 1 ? '' : 's'}) starts as GPUs are freed.`,
      );
    case 'over_limits':
      return say(overLimits(jobId));
    case 'no_node':
      if (facts.nodes === undefined) return { ask: 'nodes' };
      return say(`No node can take job ${jobId} (${shape}) now; it starts when one can:${facts.nodes.map((l) => `\n  ${l}`).join('')}`);
    case null: {
      const ahead = state.queue.indexOf(jobId);
      return say(
        ahead > 0
          ? `Job ${jobId} has ${ahead} job${ahead === 1 ? '' : 's'} ahead of it in your queue; it has not been asked for yet.`
          : `Job ${jobId} is about to be asked for: it should start in a moment.`,
      );
    }
  }
}
