/**
 * The CLI requests that change the queue, decided: `kill`, `clean`, `hold`
 * and `release`, `retry`/`rerun` (requeue), `ctrlQueue jump` and `pause`.
 * Each is a pure function of the master's state, the request and `now`,
 * returning its reply and the effects (rows to commit, a commit to wait
 * for, kills, a dispatch pass) that the daemon carries out before replying.
 */
import type { Job } from '../protocol/job.js';
import type { CliToMaster, MasterToCli } from '../protocol/user-master.js';
import { QpyError } from '../errors.js';
import type { MasterCore } from './core.js';
import type { Decision, Effect } from './effects.js';
import { inSortedRuns } from './id-runs.js';
import { JobQueue } from './job-queue.js';
import * as life from './lifecycle.js';
import { jumpQueue } from './queue-order.js';
import { inRanges, planClean, planKill } from './select.js';
import { queuePos, queuePositions, remove, unqueueCompact, update, updateAll } from './state.js';

type Req<T extends CliToMaster['type']> = Extract<CliToMaster, { type: T }>;
type Reply = Decision<MasterToCli>;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * `qpy kill`: queued jobs end undone at once; running ones are marked and
 * killed once the mark is durable (a job still starting is killed as soon
 * as its launch reports its pid).
 */
export function onKill(core: MasterCore, req: Req<'kill'>, now: number): Reply {
  const { state } = core;
  const plan = planKill(state.jobs.values(), req.selector, (id) => state.jobs.isCompactQueued(id));
  if (plan.compact.count === 0 && plan.unqueue.length === 0 && plan.kill.length === 0) {
    throw new QpyError('NOT_FOUND', 'Nothing to do: required jobs not found.');
  }
  // Compact members (of arrays and loads) are unqueued in place and committed a run at a time: a million take seconds.
  const compact = unqueueCompact(state, plan.compact.runs, now);
  const effects: Effect[] = plan.compact.runs.map(([first, last]) => ({ type: 'unqueueRange', first, last, at: now }));
  const unqueued = plan.unqueue.map((job) => life.unqueue(job, now));
  updateAll(state, unqueued);
  for (const job of unqueued) effects.push({ type: 'put', job, pos: null });
  const marked = plan.kill.map((job) => update(state, life.requestKill(job)));
  for (const job of marked) effects.push({ type: 'put', job, pos: null });
  effects.push({ type: 'commit' });
  for (const job of marked) effects.push({ type: 'kill', job });
  if (compact + unqueued.length > 0) effects.push({ type: 'dispatch' });
  return { reply: { type: 'killed', id: req.id, unqueued: compact + unqueued.length, killing: plan.kill.map((j) => j.id) }, effects };
}

/** `qpy clean`: final jobs are forgotten, with their notes. */
export function onClean(core: MasterCore, req: Req<'clean'>): Reply {
  const plan = planClean(core.state.jobs.values(), req.selector);
  if (plan.count === 0) throw new QpyError('NOT_FOUND', 'Nothing to do: required jobs not found.');
  remove(core.state, { runs: plan.runs });
  const effects: Effect[] = [{ type: 'removeRanges', runs: plan.runs }];
  for (const id of [...core.notes.keys()]) {
    if (inSortedRuns(plan.runs, id) && core.notes.delete(id)) effects.push({ type: 'deleteMeta', key: `note:${id}` });
  }
  effects.push({ type: 'commit' });
  return { reply: { type: 'cleaned', id: req.id, count: plan.count }, effects };
}

/** `qpy ctrlQueue pause|continue`. */
export function onPause(core: MasterCore, req: Req<'pause'>): Reply {
  core.state.paused = req.paused;
  const effects: Effect[] = [{ type: 'setMeta', key: 'paused', value: String(req.paused) }, { type: 'commit' }];
  if (!req.paused) effects.push({ type: 'dispatch' });
  return { reply: { type: 'text', id: req.id, text: req.paused ? 'Job submission paused.' : 'Job submission continued.' }, effects };
}

/** `qpy ctrlQueue jump`: only while paused; the new order is stored (every queued job gets its index). */
export function onJump(core: MasterCore, req: Req<'jump'>): Reply {
  const { state } = core;
  if (!state.paused) throw new QpyError('ILLEGAL_TRANSITION', 'Pause the queue before trying to control it.', 'qpy ctrlQueue pause');
  const target = req.target === 0 ? 'begin' : req.target === -1 ? 'end' : req.target;
  if (typeof target === 'number' && target < 1) throw new QpyError('INVALID_ARGUMENT', `Invalid jump position: ${req.target}`);
  const r = jumpQueue(state.queue.toArray(), req.ranges, target);
  if (!r.ok) throw new QpyError('NOT_FOUND', r.message);
  state.queue = new JobQueue(r.queue);
  const effects: Effect[] = [...queuePositions(state)].map(([id, pos]): Effect => ({ type: 'put', job: state.jobs.get(id)!, pos }));
  effects.push({ type: 'commit' });
  return { reply: { type: 'text', id: req.id, text: 'Queue reordered.' }, effects };
}

/** `qpy hold` and `qpy release`: queued jobs only; released ones may start at once. */
export function onHold(core: MasterCore, req: Req<'hold'>): Reply {
  const { state } = core;
  const effects: Effect[] = [];
  for (const id of state.queue) {
    if (!inRanges(id, req.ranges)) continue; // before reading the job: a queue may hold a million
    const job = state.jobs.get(id);
    if (job?.state.type !== 'queue' || (job.state.held ?? false) === req.held) continue;
    effects.push({ type: 'put', job: update(state, life.hold(job, req.held)), pos: 'keep' });
  }
  const verb = req.held ? 'held' : 'released';
  const n = effects.length;
  if (n === 0)
    throw new QpyError(
      'NOT_FOUND',
      `Nothing to do: no queued job to be ${verb} among those IDs.`,
      'only queued jobs can be held or released',
    );
  effects.push({ type: 'commit' });
  if (!req.held) effects.push({ type: 'dispatch' });
  return { reply: { type: 'text', id: req.id, text: `${plural(n, 'job')} ${verb}.` }, effects };
}

/** What `qpy retry` queues again: jobs that ended badly but were not killed on purpose. */
const RETRYABLE = new Set(['failed', 'node_failed', 'timeout', 'out_of_memory']);

/**
 * `qpy retry` (failed, node_failed, timeout and out_of_memory jobs) and `qpy rerun` (`any`: every
 * final job): queued again under the same ID. Refused while what is left of
 * a node_failed job may still run on a node not heard from (`leftoverOn`).
 */
export function onRequeue(core: MasterCore, req: Req<'requeue'>, now: number, leftoverOn: (jobId: number) => string | null): Reply {
  const retryable = (status: string) => RETRYABLE.has(status);
  const eligible = (j: Job) => (req.any ? life.isFinal(j) : retryable(j.state.type));
  const picked: Job[] = [];
  for (const j of core.state.jobs.values())
    if (eligible(j) && (inRanges(j.id, req.ranges) || (req.failed && retryable(j.state.type)))) picked.push(j);
  const stuck = picked.flatMap((j) => {
    const node = leftoverOn(j.id);
    return node === null ? [] : [`${j.id} (on ${node})`];
  });
  if (stuck.length > 0) {
    throw new QpyError(
      'ILLEGAL_TRANSITION',
      `not queued again: job ${stuck.join(', ')} may still run on a node that has not answered since it went down`,
      'retry once the node is back and what is left there has been killed',
    );
  }
  if (picked.length === 0)
    throw new QpyError('NOT_FOUND', req.any ? 'Nothing to do: no finished job among those IDs.' : 'Nothing to do: no failed job to retry.');
  const effects: Effect[] = picked.map((job): Effect => {
    const again = update(core.state, life.requeueFinal(job, now));
    return { type: 'put', job: again, pos: queuePos(again) };
  });
  effects.push({ type: 'commit' }, { type: 'dispatch' });
  return { reply: { type: 'text', id: req.id, text: `${plural(picked.length, 'job')} queued again.` }, effects };
}
