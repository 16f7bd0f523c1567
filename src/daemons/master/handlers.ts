/**
 * The master's answers to CLI requests, one function per request type and an
 * exhaustive switch. Each change is committed before it is acknowledged.
 */
import { OUTPUT_CHUNK, type CliToMaster, type MasterToCli } from '../../protocol/user-master.js';
import { join } from 'node:path';
import type { Job } from '../../protocol/job.js';
import { QpyError } from '../../errors.js';
import * as life from '../../master/lifecycle.js';
import { inRanges, planClean, planKill } from '../../master/select.js';
import { JobQueue } from '../../master/job-queue.js';
import { queuePos, queuePositions, remove, unqueueCompact, update, updateAll } from '../../master/state.js';
import { inSortedRuns } from '../../master/id-runs.js';
import { jumpQueue } from '../../master/queue-order.js';
import { applySetting } from '../../master/settings.js';
import { parseAttrExpr } from '../../allocator/attributes.js';
import type { Dispatcher, Runtime } from './dispatch.js';
import type { Waits } from './waits.js';
import { explainWait } from './why.js';
import { onSubmit, onSubmitMany } from './submission.js';
import { onCheck, onCheckMore } from './check.js';
import type { Listings } from './listings.js';

export interface HandlerContext extends Runtime {
  /** Where script copies go (copyScripts). */
  scriptsDir: string;
  /** `qpy wait` requests, told of every final state committed. */
  waits: Waits;
  /** The node where what is left of a node_failed job has not been killed yet, or null. */
  leftoverOn(jobId: number): string | null;
  /** Each job's notes (`qpy notes`), kept in the store's meta table as `note:<id>`. */
  notes: Map<number, string>;
  dispatcher: Dispatcher;
  /** A problem that stops new jobs from being accepted (a bad nodes file), or null. */
  configProblem: QpyError | null;
  /** `qpy check` listings being read a page at a time. */
  listings: Listings;
  /** Begin a graceful stop (after the reply is sent). */
  finish(): void;
}

export async function handleCli(ctx: HandlerContext, req: CliToMaster): Promise<MasterToCli> {
  switch (req.type) {
    case 'submit':
      return onSubmit(ctx, req);
    case 'submitMany':
      return onSubmitMany(ctx, req);
    case 'check':
      return onCheck(ctx, req);
    case 'checkMore':
      return onCheckMore(ctx, req);
    case 'config':
      return onConfig(ctx, req);
    case 'jobIds': {
      const want = req.statuses === null ? null : new Set<string>(req.statuses);
      const ids: number[] = [];
      for (const j of ctx.state.jobs.values()) if (want === null || want.has(j.state.type)) ids.push(j.id);
      return { type: 'ids', id: req.id, ids };
    }
    case 'notes':
      return onNotes(ctx, req);
    case 'kill':
      return onKill(ctx, req);
    case 'pause':
      return onPause(ctx, req);
    case 'jump':
      return onJump(ctx, req);
    case 'hold':
      return onHold(ctx, req);
    case 'wait':
      return onWait(ctx, req);
    case 'output':
      return onOutput(ctx, req);
    case 'requeue':
      return onRequeue(ctx, req);
    case 'why':
      return { type: 'text', id: req.id, text: await explainWait(ctx, req.jobId) };
    case 'clean':
      return onClean(ctx, req);
    case 'status': {
      const reply = await ctx.allocator.request({ type: 'status', user: ctx.user });
      if (reply.type === 'error') throw QpyError.fromReply(reply);
      if (reply.type !== 'status') throw new QpyError('INTERNAL', `allocator answered ${reply.type} to status`);
      const warnings = ctx.configProblem ? [...reply.status.warnings, ctx.configProblem.message] : reply.status.warnings;
      return { type: 'status', id: req.id, user: ctx.user, status: { ...reply.status, warnings } };
    }
    case 'finish': {
      setImmediate(() => ctx.finish());
      return { type: 'finishing', id: req.id, pid: process.pid, running: ctx.state.active.size };
    }
  }
}

async function onKill(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'kill' }>): Promise<MasterToCli> {
  const { state } = ctx;
  const plan = planKill(state.jobs.values(), req.selector, (id) => state.jobs.isCompactQueued(id));
  if (plan.compact.count === 0 && plan.unqueue.length === 0 && plan.kill.length === 0) {
    throw new QpyError('NOT_FOUND', 'Nothing to do: required jobs not found.');
  }
  const now = ctx.now();
  // Compact members (of arrays and loads) are unqueued in place and committed a run at a time: a million take seconds.
  const compact = unqueueCompact(state, plan.compact.runs, now);
  for (const [a, b] of plan.compact.runs) ctx.committer.unqueueRange(a, b, now);
  const unqueued = plan.unqueue.map((job) => life.unqueue(job, now));
  updateAll(state, unqueued);
  for (const job of unqueued) ctx.committer.putJob(job, null);
  const marked = plan.kill.map((job) => {
    const m = update(state, life.requestKill(job));
    ctx.committer.putJob(m, null);
    return m;
  });
  await ctx.committer.flush();
  // A job whose pid is not known yet is killed as soon as its launch reports it (see dispatch).
  for (const job of marked) ctx.dispatcher.kill(job);
  if (compact + unqueued.length > 0) ctx.dispatcher.poke();
  return { type: 'killed', id: req.id, unqueued: compact + unqueued.length, killing: plan.kill.map((j) => j.id) };
}

async function onClean(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'clean' }>): Promise<MasterToCli> {
  const plan = planClean(ctx.state.jobs.values(), req.selector);
  if (plan.count === 0) throw new QpyError('NOT_FOUND', 'Nothing to do: required jobs not found.');
  remove(ctx.state, { runs: plan.runs });
  ctx.committer.removeRanges(plan.runs);
  for (const id of [...ctx.notes.keys()]) {
    if (inSortedRuns(plan.runs, id) && ctx.notes.delete(id)) ctx.committer.deleteMeta(`note:${id}`);
  }
  await ctx.committer.flush();
  return { type: 'cleaned', id: req.id, count: plan.count };
}

async function onPause(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'pause' }>): Promise<MasterToCli> {
  ctx.state.paused = req.paused;
  ctx.committer.setMeta('paused', String(req.paused));
  await ctx.committer.flush();
  if (!req.paused) ctx.dispatcher.poke();
  return { type: 'text', id: req.id, text: req.paused ? 'Job submission paused.' : 'Job submission continued.' };
}

async function onJump(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'jump' }>): Promise<MasterToCli> {
  if (!ctx.state.paused) throw new QpyError('ILLEGAL_TRANSITION', 'Pause the queue before trying to control it.', 'qpy ctrlQueue pause');
  const target = req.target === 0 ? 'begin' : req.target === -1 ? 'end' : req.target;
  if (typeof target === 'number' && target < 1) throw new QpyError('INVALID_ARGUMENT', `Invalid jump position: ${req.target}`);
  const r = jumpQueue(ctx.state.queue.toArray(), req.ranges, target);
  if (!r.ok) throw new QpyError('NOT_FOUND', r.message);
  ctx.state.queue = new JobQueue(r.queue);
  // The new order is stored (the original lost it at a restart): every queued job gets its index.
  for (const [id, pos] of queuePositions(ctx.state)) ctx.committer.putJob(ctx.state.jobs.get(id)!, pos);
  await ctx.committer.flush();
  return { type: 'text', id: req.id, text: 'Queue reordered.' };
}

async function onNotes(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'notes' }>): Promise<MasterToCli> {
  const ids = () => [...ctx.notes.keys()].sort((a, b) => a - b);
  if (req.jobId === null) return { type: 'notes', id: req.id, ids: ids(), text: null };
  if (!ctx.state.jobs.has(req.jobId)) throw new QpyError('NOT_FOUND', `No job ${req.jobId}.`, 'see your jobs with: qpy check');
  if (req.text !== null) {
    const text = (ctx.notes.get(req.jobId) ?? '') + req.text;
    if (text.length > 1024 * 1024) throw new QpyError('INVALID_ARGUMENT', `the notes of job ${req.jobId} would exceed 1 MiB`);
    ctx.notes.set(req.jobId, text);
    ctx.committer.setMeta(`note:${req.jobId}`, text);
    await ctx.committer.flush();
  }
  return { type: 'notes', id: req.id, ids: ids(), text: ctx.notes.get(req.jobId) ?? null };
}

/** Keys whose effect is not built yet: refused rather than stored and ignored. */
const NOT_YET = new Set<string>();

async function onConfig(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'config' }>): Promise<MasterToCli> {
  if (req.key === null) return { type: 'settings', id: req.id, settings: ctx.settings, paused: ctx.state.paused, message: null };
  if (NOT_YET.has(req.key)) throw new QpyError('INVALID_ARGUMENT', `${req.key} is not available in this version`);
  const r = applySetting(ctx.settings, req.key, req.values);
  if (!r.ok) throw new QpyError('INVALID_ARGUMENT', r.message, `see the settings with: qpy config`);
  if (
    r.settings.defaultAttr !== ctx.settings.defaultAttr ||
    r.settings.andAttr !== ctx.settings.andAttr ||
    r.settings.orAttr !== ctx.settings.orAttr
  ) {
    for (const expr of [r.settings.defaultAttr, r.settings.andAttr, r.settings.orAttr]) {
      const parsed = parseAttrExpr(expr);
      if (!parsed.ok) throw new QpyError(parsed.code, `${req.key}: ${parsed.message}`);
    }
  }
  ctx.settings = r.settings;
  ctx.committer.setMeta('settings', JSON.stringify(r.settings));
  await ctx.committer.flush();
  return { type: 'settings', id: req.id, settings: ctx.settings, paused: ctx.state.paused, message: r.message };
}

async function onHold(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'hold' }>): Promise<MasterToCli> {
  let n = 0;
  for (const id of ctx.state.queue) {
    if (!inRanges(id, req.ranges)) continue; // before reading the job: a queue may hold a million
    const job = ctx.state.jobs.get(id);
    if (job?.state.type !== 'queue' || (job.state.held ?? false) === req.held) continue;
    ctx.committer.putJob(update(ctx.state, life.hold(job, req.held)), 'keep');
    n++;
  }
  const verb = req.held ? 'held' : 'released';
  if (n === 0)
    throw new QpyError(
      'NOT_FOUND',
      `Nothing to do: no queued job to be ${verb} among those IDs.`,
      'only queued jobs can be held or released',
    );
  await ctx.committer.flush();
  if (!req.held) ctx.dispatcher.poke();
  return { type: 'text', id: req.id, text: `${n} job${n === 1 ? '' : 's'} ${verb}.` };
}

async function onWait(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'wait' }>): Promise<MasterToCli> {
  const ids = [...ctx.state.jobs.keys()].filter((id) => req.all || inRanges(id, req.ranges));
  if (ids.length === 0) throw new QpyError('NOT_FOUND', 'Nothing to wait for: no such jobs.');
  await ctx.waits.until(ids.filter((id) => !life.isFinal(ctx.state.jobs.get(id)!)));
  const done: number[] = [];
  const other: [number, string][] = [];
  for (const id of ids) {
    const j = ctx.state.jobs.get(id);
    if (!j) continue; // cleaned meanwhile
    if (j.state.type === 'done') done.push(id);
    else other.push([id, j.state.type]);
  }
  return { type: 'waited', id: req.id, done, other };
}

async function onOutput(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'output' }>): Promise<MasterToCli> {
  const job = ctx.state.jobs.get(req.jobId);
  if (!job) throw new QpyError('NOT_FOUND', `No job ${req.jobId}.`, 'see your jobs with: qpy check');
  const reply = { type: 'output' as const, id: req.id, status: job.state.type, read: false, data: '' };
  if (job.state.type !== 'running' || job.state.pid === null) return reply;
  try {
    const data = await ctx.executor.readOutput(job.id, join(job.spec.cwd, `job_${job.id}.out`), req.offset, OUTPUT_CHUNK);
    return { ...reply, read: true, data: data.toString('base64') };
  } catch {
    return reply; // its node does not answer now: the shared copy is read instead
  }
}

async function onRequeue(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'requeue' }>): Promise<MasterToCli> {
  const retryable = (status: string) => status === 'failed' || status === 'node_failed';
  const eligible = (j: Job) => (req.any ? life.isFinal(j) : retryable(j.state.type));
  const picked: Job[] = [];
  for (const j of ctx.state.jobs.values())
    if (eligible(j) && (inRanges(j.id, req.ranges) || (req.failed && retryable(j.state.type)))) picked.push(j);
  const stuck = picked.flatMap((j) => {
    const node = ctx.leftoverOn(j.id);
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
  const now = ctx.now();
  for (const job of picked) {
    const again = update(ctx.state, life.requeueFinal(job, now));
    ctx.committer.putJob(again, queuePos(again));
  }
  await ctx.committer.flush();
  ctx.dispatcher.poke();
  return { type: 'text', id: req.id, text: `${picked.length} job${picked.length === 1 ? '' : 's'} queued again.` };
}
