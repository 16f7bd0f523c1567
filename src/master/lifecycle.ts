/**
 * The job state machine: one verb per transition, each a pure function from
 * a job (and the facts it needs: node, time, outcome) to the next job. A
 * transition not in the table is refused with ILLEGAL_TRANSITION.
 *
 *   queue ──start──▶ running ──end──▶ done | failed | killed | timeout | out_of_memory
 *     │                 │  ▲   └─nodeFailed──▶ node_failed (its node went down)
 *     │ unqueue         │  └─ requeue (the launch provably never happened)
 *     ▼                 └─ requestKill (stays running, ends as killed)
 *   undone
 *
 * `running` has two phases, told apart by its pid: `start` commits it with
 * none (shown as `starting`: its launch is in flight, or its node has not
 * answered since a restart), and `launched` records the process group once
 * the node reports the job's process (shown as `running`). Only a starting job can
 * be requeued by a launch that failed: once a pid is known it ran.
 */
import type { Attempt, Job, JobSpec, JobState, Outcome, Usage } from '../protocol/job.js';
import type { EndLimit } from '../protocol/usage.js';
export { isStarting, shownStatus } from '../protocol/job.js';
import { QpyError } from '../errors.js';

type StateOf<T extends JobState['type']> = Extract<JobState, { type: T }>;

function expect<T extends JobState['type']>(job: Job, verb: string, ...types: T[]): StateOf<T> {
  if (!(types as string[]).includes(job.state.type)) {
    throw new QpyError('ILLEGAL_TRANSITION', `job ${job.id} is ${job.state.type}: cannot ${verb} it`);
  }
  return job.state as StateOf<T>;
}

/** The state of every plain queued job: one shared, frozen object (a million queued jobs need no million copies). */
export const QUEUED: JobState = Object.freeze({ type: 'queue' }) as JobState;

/** A new queued job. */
export function newJob(id: number, spec: JobSpec, now: number): Job {
  return { id, spec, queuedAt: now, state: QUEUED };
}

/** The GPUs a run holds (its grant's), as its states carry them: absent when none. */
export interface RunGpus {
  gpus?: number[];
  gpuUuids?: string[];
}

/** The GPU fields of a state, to carry on to the next (none when it holds none). */
function gpusOf(s: RunGpus): RunGpus {
  return {
    ...(s.gpus !== undefined && s.gpus.length > 0 ? { gpus: s.gpus } : {}),
    ...(s.gpuUuids !== undefined && s.gpuUuids.length > 0 ? { gpuUuids: s.gpuUuids } : {}),
  };
}

/** queue → running on `node` with the GPUs of its grant; the pid is learnt after the launch. */
export function start(job: Job, node: string, now: number, gpus: RunGpus = {}): Job {
  expect(job, 'start', 'queue');
  return { ...job, state: { type: 'running', node, startedAt: now, pid: null, killRequested: false, ...gpusOf(gpus) } };
}

/** starting → running: record the process group of a job whose launch its node confirmed. */
export function launched(job: Job, pid: number): Job {
  const s = expect(job, 'record the launch of', 'running');
  return { ...job, state: { ...s, pid } };
}

/** running → queue, only when the launch provably never happened. */
export function requeue(job: Job): Job {
  expect(job, 'requeue', 'running');
  return { ...job, state: QUEUED };
}

/** Mark a running job for killing: however it ends, it ends as killed. */
export function requestKill(job: Job): Job {
  const s = expect(job, 'kill', 'running');
  return { ...job, state: { ...s, killRequested: true } };
}

/** How a run ended, beyond its outcome: the limit that ended it, and what it used. */
export interface EndFacts {
  /** What ended it beyond its own exit, as its node agent recorded it (protocol/usage.ts). */
  limit?: EndLimit;
  usage?: Usage;
}

/**
 * running → killed (a kill was asked for), timeout or out_of_memory (a limit
 * ended it), done (exit 0) or failed (anything else). A kill asked for comes
 * first: the user's word is what the job ended by, whatever raced it.
 */
export function end(job: Job, outcome: Outcome, now: number, facts: EndFacts = {}): Job {
  const s = expect(job, 'end', 'running');
  const base = {
    node: s.node,
    startedAt: s.startedAt,
    endedAt: Math.max(now, s.startedAt),
    outcome,
    ...(facts.usage ? { usage: facts.usage } : {}),
    ...gpusOf(s),
  };
  if (s.killRequested) return { ...job, state: { type: 'killed', ...base } };
  if (facts.limit === 'time') return { ...job, state: { type: 'timeout', ...base } };
  if (facts.limit === 'memory') return { ...job, state: { type: 'out_of_memory', ...base } };
  if (facts.limit === 'cgroup' || facts.limit === 'oom')
    return { ...job, state: { type: 'out_of_memory', ...base, by: facts.limit === 'oom' ? 'kernel' : 'cgroup' } };
  if (outcome.type === 'exit' && outcome.code === 0) return { ...job, state: { type: 'done', ...base } };
  return { ...job, state: { type: 'failed', ...base } };
}

/** running → node_failed: its node stayed unreachable past the down timeout, so how it ends is unknown. */
export function nodeFailed(job: Job, now: number): Job {
  const s = expect(job, 'fail the node of', 'running');
  return {
    ...job,
    state: { type: 'node_failed', node: s.node, startedAt: s.startedAt, endedAt: Math.max(now, s.startedAt), ...gpusOf(s) },
  };
}

/** Hold (true) or release (false) a queued job: a held job stays queued but is never started. */
export function hold(job: Job, held: boolean): Job {
  expect(job, held ? 'hold' : 'release', 'queue');
  return { ...job, state: held ? { type: 'queue', held: true } : { type: 'queue' } };
}

/** queue → undone (killed before it ran). */
export function unqueue(job: Job, now: number, reason?: string): Job {
  expect(job, 'remove from the queue', 'queue');
  return { ...job, state: reason === undefined ? { type: 'undone', endedAt: now } : { type: 'undone', endedAt: now, reason } };
}

/**
 * A final job with a run → queue: run it again under the same
 * ID (`--retry`, `qpy retry`, `qpy rerun`), the run that ended kept as an
 * attempt. An undone job never ran: it is simply queued again.
 */
export function requeueFinal(job: Job, now: number): Job {
  const s = expect(job, 'queue again', 'done', 'failed', 'killed', 'timeout', 'out_of_memory', 'node_failed', 'undone');
  const attempts = job.attempts ?? [];
  const queued: Job = { ...job, queuedAt: now, state: { type: 'queue' } };
  if (s.type === 'undone') return queued;
  const attempt: Attempt = { status: s.type, node: s.node, startedAt: s.startedAt, endedAt: s.endedAt, outcome: null };
  if (s.type !== 'node_failed') {
    attempt.outcome = s.outcome;
    if (s.usage) attempt.usage = s.usage; // what that run used stays with it
  }
  return { ...queued, attempts: [...attempts, attempt] };
}

/**
 * Should a node_failed job be queued again by itself (`--retry N`)? Only
 * when its node is known to be gone for good with nothing of the job left
 * (a Slurm pilot that ended, issue 18): a node that merely stopped answering
 * may still run it.
 */
export function retriesLeftAfterNodeGone(job: Job): boolean {
  return job.state.type === 'node_failed' && (job.attempts?.length ?? 0) < (job.spec.retries ?? 0);
}

/** Should a job that just ended be queued again by itself (`--retry N`, a failure, not a kill)? */
export function retriesLeft(job: Job): boolean {
  return job.state.type === 'failed' && (job.attempts?.length ?? 0) < (job.spec.retries ?? 0);
}

/** Final jobs change only when queued again on purpose (retry, rerun), and may be cleaned. */
export function isFinal(job: Job): boolean {
  return job.state.type !== 'queue' && job.state.type !== 'running';
}
