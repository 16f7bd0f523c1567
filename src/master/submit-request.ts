/**
 * Accepting jobs, decided: one (`qpy sub`) or many in one transaction
 * (`sub --array`, `qpy load`). Every spec is checked the same way
 * (attributes after the settings, dependencies, retries, priority) before
 * the daemon asks the allocator whether any node could ever run it
 * (`feasible`); then the jobs are added and committed before the reply. A
 * failed commit takes them back (their IDs are simply skipped). A big load
 * arrives in parts, staged (staging.ts) until its last part.
 */
import { NOTIFY_WHEN, type JobSpec, type NotifyWhen } from '../protocol/job.js';
import type { AllocatorToMaster } from '../protocol/master-allocator.js';
import type { CliToMaster, MasterToCli, Template } from '../protocol/user-master.js';
import { QpyError } from '../errors.js';
import type { MasterCore } from './core.js';
import { formatIds, unknownIds, withGroupsExpanded } from './deps.js';
import type { Decision, Effect } from './effects.js';
import { withDefaultAttrs } from './settings.js';
import { submit, submitGroup, type MasterState } from './state.js';
import { validateSpec } from './validate.js';

type Req<T extends CliToMaster['type']> = Extract<CliToMaster, { type: T }>;

/** How many jobs one `--after` or `--afterok` may name (an array's million, say). */
export const MAX_DEPENDENCIES = 1_000_000;
/** Priorities range over ±MAX_PRIORITY, so a stored queue position (queuePos) stays exact. */
export const MAX_PRIORITY = 1_000_000;
/** Most jobs one bulk submission may add. */
export const MAX_BULK_JOBS = 2_000_000;
/** Most runs one `--retry` may ask for. */
export const MAX_RETRIES = 1000;

/** An attribute expression's check (the allocator's parser, given by the daemon): the error, or null if it parses. */
export type AttrCheck = (expr: string | null) => QpyError | null;

/** What the daemon knows when a submission comes, beside the state. */
export interface SubmitFacts {
  /** The master is stopping. */
  stopping: boolean;
  /** A problem that stops new jobs from being accepted (a bad nodes file), or null. */
  configProblem: QpyError | null;
  /** Why qpy-multiuser refuses this user now, or null. */
  denied: QpyError | null;
  checkAttrs: AttrCheck;
}

/** New jobs are refused while qpy-multiuser refuses this user (NOT_ALLOWED, or its key refused): they would never run. */
export function refuseIfDenied(denied: QpyError | null): void {
  if (denied !== null) throw new QpyError(denied.code, `job refused: ${denied.message}`, denied.hint);
}

/** The spec every job of a submission shares (its command aside), checked; the allocator's feasibility is asked next. */
export function checkedSpec(core: MasterCore, t: Template, command: string, facts: SubmitFacts): JobSpec {
  if (facts.stopping) throw new QpyError('SHUTTING_DOWN', 'qpy-master is stopping', 'submit again in a moment');
  if (facts.configProblem) throw facts.configProblem;
  refuseIfDenied(facts.denied);
  const { state } = core;
  const given = t.attrs === null || t.attrs.trim() === '' ? null : t.attrs.trim();
  const spec: JobSpec = { command, cwd: t.cwd, cores: t.cores, memGB: t.memGB, attrs: withDefaultAttrs(core.settings, given) };
  for (const key of ['after', 'afterok'] as const) {
    if (t[key] === undefined || t[key].length === 0) continue;
    const ranges = withGroupsExpanded(t[key], state.jobs, state.nextId);
    const count = ranges.reduce((n, [a, b]) => n + Math.max(0, b - a + 1), 0);
    if (count > MAX_DEPENDENCIES) throw new QpyError('INVALID_ARGUMENT', `--${key} names ${count} jobs; at most ${MAX_DEPENDENCIES}`);
    const unknown = unknownIds(ranges, state.jobs);
    if (unknown.length > 0) throw new QpyError('NOT_FOUND', `--${key}: no job ${formatIds(unknown)}`, 'see your jobs with: qpy check');
    spec[key] = ranges;
  }
  if (t.retries !== undefined && t.retries > 0) {
    if (t.retries > MAX_RETRIES) throw new QpyError('INVALID_ARGUMENT', `--retry is at most ${MAX_RETRIES}, not ${t.retries}`);
    spec.retries = t.retries;
  }
  if (t.priority !== undefined && t.priority !== 0) {
    if (Math.abs(t.priority) > MAX_PRIORITY)
      throw new QpyError('INVALID_ARGUMENT', `a priority is a whole number from -${MAX_PRIORITY} to ${MAX_PRIORITY}, not ${t.priority}`);
    spec.priority = t.priority;
  }
  // -t none (0) overrides defaultTime; without -t, defaultTime applies.
  const time = t.time === undefined ? core.settings.defaultTime : t.time === 0 ? null : t.time;
  if (time !== null) spec.time = time;
  if (spec.memGB > 0 && core.settings.memLimit) spec.memLimit = true;
  for (const key of ['name', 'out', 'err'] as const) if (t[key] !== undefined) spec[key] = t[key];
  if (t.notify !== undefined) spec.notify = checkedNotify(core, t.notify);
  if (t.gpus !== undefined && t.gpus !== 0) spec.gpus = t.gpus;
  const bad = validateSpec(spec) ?? facts.checkAttrs(spec.attrs);
  if (bad) throw bad;
  return spec;
}

/** `--notify WHEN`, checked: a known WHEN, and somewhere to send it (notifyCommand or notifyMail set). */
function checkedNotify(core: MasterCore, when: string): NotifyWhen {
  if (!(NOTIFY_WHEN as readonly string[]).includes(when))
    throw new QpyError('INVALID_ARGUMENT', `--notify takes ${NOTIFY_WHEN.join(', ')}, not '${when}'`);
  if (core.settings.notifyCommand === null && core.settings.notifyMail === null)
    throw new QpyError(
      'INVALID_ARGUMENT',
      '--notify needs a notifier, and none is set',
      'set one with: qpy config notifyCommand COMMAND (or notifyMail ADDRESS)',
    );
  return when as NotifyWhen;
}

/**
 * The allocator's answer to `feasible`: a job no node could ever run, or
 * above the administrator's limits, is refused (qpy-multiuser away: accepted
 * unchecked). Within them, the spec gets the limits' defaults: the maximum
 * time when it has no time limit, and no memory limit when they are off.
 */
export function checkFeasible(reply: AllocatorToMaster, spec: JobSpec): JobSpec {
  if (reply.type !== 'feasibility') return spec;
  if (reply.problem !== null)
    throw new QpyError('UNSATISFIABLE', `job refused: ${reply.problem}`, 'see the nodes and limits with: qpy status');
  const limits = reply.limits;
  if (limits === undefined) return spec;
  const out: JobSpec = { ...spec };
  if (out.time === undefined && limits.maxTime !== null) out.time = limits.maxTime;
  if (limits.memoryLimits === 'off') delete out.memLimit;
  return out;
}

/** Should `qpy sub` copy its script (`copyScripts`, or -c/-o)? */
export function wantsCopy(core: MasterCore, req: Req<'submit'>): boolean {
  return (req.copyScript ?? core.settings.copyScripts) && Boolean(req.script);
}

/** Commit new jobs `first`…`last`, taken back if the commit fails; then a dispatch pass. */
function commitNew(state: MasterState, first: number, last: number, undo: Effect[] = []): Effect[] {
  return [
    { type: 'putNew', first, last },
    { type: 'setMeta', key: 'next_id', value: String(state.nextId) },
    { type: 'commit', undo: [...undo, { type: 'takeBack', first, last }] },
    { type: 'dispatch' },
  ];
}

/** `qpy sub`, checked: the job is added (with its script copy at `copy`, if one was made). */
export function acceptSubmit(core: MasterCore, req: Req<'submit'>, spec: JobSpec, copy: string | null, now: number): Decision<MasterToCli> {
  const withCopy: JobSpec =
    copy !== null && req.script && req.script.wordEnd > 0 && req.script.wordEnd <= spec.command.length
      ? { ...spec, copy: { path: copy, wordEnd: req.script.wordEnd } }
      : spec;
  const job = submit(core.state, withCopy, now);
  const undo: Effect[] = copy === null ? [] : [{ type: 'removeFile', path: copy }];
  return { reply: { type: 'submitted', id: req.id, jobId: job.id }, effects: commitNew(core.state, job.id, job.id, undo) };
}

/**
 * A part of `submitMany`: a part that is not the last is staged and
 * answered at once (`reply`); the last one gives every command of the
 * submission (`commands`) to check and accept.
 */
export function stagePart(
  core: MasterCore,
  req: Req<'submitMany'>,
  denied: QpyError | null,
  now: number,
): { reply: MasterToCli; commands?: never } | { reply?: never; commands: string[] } {
  refuseIfDenied(denied); // at the first part of a load already
  core.staging.expire(now);
  const commands = req.stage === null ? req.commands : core.staging.add(req.stage, req.commands, now);
  if (!req.last) {
    const stage = req.stage ?? core.staging.open(req.commands, now);
    if (commands.length > MAX_BULK_JOBS) throw new QpyError('INVALID_ARGUMENT', `at most ${MAX_BULK_JOBS} jobs in one submission`);
    return { reply: { type: 'submittedMany', id: req.id, first: null, last: null, stage, staged: commands.length } };
  }
  if (req.stage !== null) core.staging.close(req.stage);
  const count = req.kind === 'array' ? (req.indices === null ? 0 : req.indices[1] - req.indices[0] + 1) : commands.length;
  if (count < 1)
    throw new QpyError('INVALID_ARGUMENT', req.kind === 'array' ? 'an array needs at least one index' : 'nothing to load: no commands');
  if (count > MAX_BULK_JOBS) throw new QpyError('INVALID_ARGUMENT', `at most ${MAX_BULK_JOBS} jobs in one submission`);
  if (req.kind === 'array' && commands.length !== 1) throw new QpyError('BAD_REQUEST', 'an array has exactly one command');
  if (req.cap !== null && req.cap < 1)
    throw new QpyError('INVALID_ARGUMENT', `%${req.cap}: at least 1 job of the array must be allowed to run`);
  return { commands };
}

/** The last part of `submitMany`, checked: its jobs are added as one group, kept compact. */
export function acceptGroup(
  core: MasterCore,
  req: Req<'submitMany'>,
  commands: string[],
  spec: JobSpec,
  now: number,
): Decision<MasterToCli> {
  const { state } = core;
  const id = state.nextId;
  const count = req.kind === 'array' ? req.indices![1] - req.indices![0] + 1 : commands.length;
  const index = req.kind === 'array' ? req.indices![0] : 1;
  const group = req.cap === null ? { id, index, kind: req.kind } : { id, index, kind: req.kind, cap: req.cap };
  // Kept compact: a load's members are its command strings (this very array), an array's take no memory of their own.
  const slots: (string | 1)[] = req.kind === 'array' ? new Array<1>(count).fill(1) : commands;
  const [first, last] = submitGroup(state, { ...spec, group }, slots, now);
  return { reply: { type: 'submittedMany', id: req.id, first, last, stage: null, staged: 0 }, effects: commitNew(state, first, last) };
}

/** New jobs `first`…`last` whose commit failed leave the state again. */
export function takeBack(state: MasterState, first: number, last: number): void {
  state.queue = state.queue.filter((id) => id < first || id > last);
  for (let id = first; id <= last; id++) {
    state.jobs.delete(id);
    state.dependent.delete(id);
  }
}
