/**
 * Accepting jobs: one (`qpy sub`) or many in one transaction (`sub --array`,
 * `qpy load`). Every spec is checked the same way (attributes after the
 * settings, dependencies, retries, priority, feasibility) and nothing is
 * acknowledged before it is committed; a failed commit takes the jobs back.
 * A big load arrives in parts, staged here until its last part commits
 * them all.
 */
import { chmodSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { JobSpec } from '../../protocol/job.js';
import type { CliToMaster, MasterToCli, Template } from '../../protocol/user-master.js';
import { QpyError } from '../../errors.js';
import { queuePos, queuePosOf, submit, submitGroup } from '../../master/state.js';
import { formatIds, unknownIds, withGroupsExpanded } from '../../master/deps.js';
import { withDefaultAttrs } from '../../master/settings.js';
import { validateSpec } from '../../master/validate.js';
import { parseAttrExpr } from '../../allocator/attributes.js';
import type { HandlerContext } from './handlers.js';

/** How many jobs one `--after` or `--afterok` may name (an array's million, say). */
const MAX_DEPENDENCIES = 1_000_000;
/** Priorities range over ±MAX_PRIORITY, so a stored queue position (queuePos) stays exact. */
const MAX_PRIORITY = 1_000_000;
/** Most jobs one bulk submission may add. */
const MAX_BULK_JOBS = 2_000_000;

/** New jobs are refused while the shared allocator refuses this user (NOT_ALLOWED, or its key refused): they would never run. */
function refuseIfDenied(ctx: HandlerContext): void {
  const denied = ctx.allocator.denied?.() ?? null;
  if (denied !== null) throw new QpyError(denied.code, `job refused: ${denied.message}`, denied.hint);
}

/** The spec every job of a submission shares (its command aside), checked. */
async function checkedSpec(ctx: HandlerContext, t: Template, command: string): Promise<JobSpec> {
  if (ctx.stopping) throw new QpyError('SHUTTING_DOWN', 'qpy-master is stopping', 'submit again in a moment');
  if (ctx.configProblem) throw ctx.configProblem;
  refuseIfDenied(ctx);
  const given = t.attrs === null || t.attrs.trim() === '' ? null : t.attrs.trim();
  const spec: JobSpec = { command, cwd: t.cwd, cores: t.cores, memGB: t.memGB, attrs: withDefaultAttrs(ctx.settings, given) };
  for (const key of ['after', 'afterok'] as const) {
    if (t[key] === undefined || t[key].length === 0) continue;
    const ranges = withGroupsExpanded(t[key], ctx.state.jobs, ctx.state.nextId);
    const count = ranges.reduce((n, [a, b]) => n + Math.max(0, b - a + 1), 0);
    if (count > MAX_DEPENDENCIES) throw new QpyError('INVALID_ARGUMENT', `--${key} names ${count} jobs; at most ${MAX_DEPENDENCIES}`);
    const unknown = unknownIds(ranges, ctx.state.jobs);
    if (unknown.length > 0) throw new QpyError('NOT_FOUND', `--${key}: no job ${formatIds(unknown)}`, 'see your jobs with: qpy check');
    spec[key] = ranges;
  }
  if (t.retries !== undefined && t.retries > 0) {
    if (t.retries > 1000) throw new QpyError('INVALID_ARGUMENT', `--retry is at most 1000, not ${t.retries}`);
    spec.retries = t.retries;
  }
  if (t.priority !== undefined && t.priority !== 0) {
    if (Math.abs(t.priority) > MAX_PRIORITY)
      throw new QpyError('INVALID_ARGUMENT', `a priority is a whole number from -${MAX_PRIORITY} to ${MAX_PRIORITY}, not ${t.priority}`);
    spec.priority = t.priority;
  }
  const bad = validateSpec(spec);
  if (bad) throw bad;
  const expr = parseAttrExpr(spec.attrs);
  if (!expr.ok) throw new QpyError(expr.code, expr.message);
  const feasible = await ctx.allocator.request({
    type: 'feasible',
    user: ctx.user,
    demand: { cores: spec.cores, memGB: spec.memGB, attrs: spec.attrs },
  });
  if (feasible.type === 'feasibility' && feasible.problem !== null) {
    throw new QpyError('UNSATISFIABLE', `job refused: ${feasible.problem}`, 'see the nodes with: qpy status');
  }
  return spec;
}

/** Commit jobs `first`…`last`, just added to the state; on failure they are taken back out (their IDs are simply skipped). */
async function commitNew(ctx: HandlerContext, first: number, last: number, cleanup: () => void = () => undefined): Promise<void> {
  const { state } = ctx;
  const group = state.jobs.groupOf(first);
  const template = group === first ? state.jobs.templateOf(group) : undefined;
  if (template !== undefined) ctx.committer.putGroup(first, template);
  // Members still compact when the commit runs are written as compact rows (see job-store.ts).
  ctx.committer.putRange(first, last, (id) => {
    const compact = template !== undefined ? state.jobs.compactRow(id) : null;
    if (compact !== null)
      return compact.endedAt === null
        ? { compact, status: 'queue', pos: queuePosOf(id, template!.spec.priority) }
        : { compact, status: 'undone', pos: null };
    const job = state.jobs.get(id);
    return job === undefined ? undefined : { job, pos: job.state.type === 'queue' ? queuePos(job) : null };
  });
  ctx.committer.setMeta('next_id', String(state.nextId));
  try {
    await ctx.committer.flush();
  } catch (err) {
    cleanup();
    state.queue = state.queue.filter((id) => id < first || id > last);
    for (let id = first; id <= last; id++) {
      state.jobs.delete(id);
      state.dependent.delete(id);
    }
    throw err;
  }
  ctx.dispatcher.poke();
}

export async function onSubmit(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'submit' }>): Promise<MasterToCli> {
  const spec = await checkedSpec(ctx, req, req.command);
  const copy =
    (req.copyScript ?? ctx.settings.copyScripts) && req.script ? copyScript(ctx.scriptsDir, ctx.state.nextId, req.script.path) : null;
  if (copy !== null && req.script && req.script.wordEnd > 0 && req.script.wordEnd <= spec.command.length)
    spec.copy = { path: copy, wordEnd: req.script.wordEnd };
  const job = submit(ctx.state, spec, ctx.now());
  await commitNew(ctx, job.id, job.id, () => copy !== null && rmSync(copy, { force: true }));
  return { type: 'submitted', id: req.id, jobId: job.id };
}

/** Load parts received so far, by stage token, with when the last part came. */
const staged = new Map<number, { commands: string[]; touchedAt: number }>();
let nextStage = 1;
/** A load whose next part has not come for this long was abandoned (its `qpy load` killed): it is dropped. */
const STAGE_TTL_MS = 10 * 60_000;

export async function onSubmitMany(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'submitMany' }>): Promise<MasterToCli> {
  refuseIfDenied(ctx); // at the first part of a load already
  const now = ctx.now();
  for (const [stage, s] of staged) if (now - s.touchedAt > STAGE_TTL_MS) staged.delete(stage);
  let commands = req.commands;
  if (req.stage !== null) {
    const s = staged.get(req.stage);
    if (!s)
      throw new QpyError(
        'NOT_FOUND',
        'this load was lost (the master restarted, or its next part came too late): nothing of it was submitted',
        'load the file again',
      );
    for (const c of req.commands) s.commands.push(c);
    s.touchedAt = now;
    commands = s.commands;
  }
  if (!req.last) {
    const stage = req.stage ?? nextStage++;
    if (req.stage === null) staged.set(stage, { commands: [...req.commands], touchedAt: now });
    if (commands.length > MAX_BULK_JOBS) throw new QpyError('INVALID_ARGUMENT', `at most ${MAX_BULK_JOBS} jobs in one submission`);
    return { type: 'submittedMany', id: req.id, first: null, last: null, stage, staged: commands.length };
  }
  if (req.stage !== null) staged.delete(req.stage);
  const count = req.kind === 'array' ? (req.indices === null ? 0 : req.indices[1] - req.indices[0] + 1) : commands.length;
  if (count < 1)
    throw new QpyError('INVALID_ARGUMENT', req.kind === 'array' ? 'an array needs at least one index' : 'nothing to load: no commands');
  if (count > MAX_BULK_JOBS) throw new QpyError('INVALID_ARGUMENT', `at most ${MAX_BULK_JOBS} jobs in one submission`);
  if (req.kind === 'array' && commands.length !== 1) throw new QpyError('BAD_REQUEST', 'an array has exactly one command');
  if (req.cap !== null && req.cap < 1)
    throw new QpyError('INVALID_ARGUMENT', `%${req.cap}: at least 1 job of the array must be allowed to run`);
  const spec = await checkedSpec(ctx, req.template, commands[0]!);
  const id = ctx.state.nextId;
  const index = req.kind === 'array' ? req.indices![0] : 1;
  const group = req.cap === null ? { id, index, kind: req.kind } : { id, index, kind: req.kind, cap: req.cap };
  // Kept compact: a load's members are its command strings (this very array), an array's take no memory of their own.
  const slots: (string | 1)[] = req.kind === 'array' ? new Array<1>(count).fill(1) : commands;
  const [first, last] = submitGroup(ctx.state, { ...spec, group }, slots, now);
  await commitNew(ctx, first, last);
  return { type: 'submittedMany', id: req.id, first, last, stage: null, staged: 0 };
}

/** Copy a job's script (kept 0700, run in place of the original by its own interpreter, shebang and all). */
function copyScript(dir: string, jobId: number, source: string): string {
  const dest = join(dir, `job_script.${jobId}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    copyFileSync(source, dest);
    chmodSync(dest, 0o700);
  } catch (err) {
    throw new QpyError(
      'INVALID_ARGUMENT',
      `cannot copy the script ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'submit with -o to run the original',
    );
  }
  return dest;
}
