/**
 * `qpy check` in the master: the filter is applied here, and the listing
 * goes out a page at a time (CHECK_PAGE jobs), the rest kept as IDs under a
 * cursor that `checkMore` reads on. A plain check of more than CHECK_LIMIT
 * jobs sums up arrays and loads (one entry each, as `--groups` does) unless
 * `all` asks for every job: a two-million-job array answers in a second,
 * and no reply builds two million jobs.
 */
import type { Job } from '../../protocol/job.js';
import type { CliToMaster, MasterToCli } from '../../protocol/user-master.js';
import type { QpyError } from '../../errors.js';
import { CHECK_LIMIT } from '../../protocol/user-master.js';
import { planCheck, type CheckView } from '../../master/check-plan.js';
import { CHECK_PAGE } from './listings.js';
import type { HandlerContext } from './handlers.js';

type JobsReply = Extract<MasterToCli, { type: 'jobs' }>;

export function onCheck(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'check' }>): MasterToCli {
  const { state } = ctx;
  const view: CheckView = req.groups === true ? 'groups' : req.all === true ? 'jobs' : 'auto';
  const plan = planCheck(candidates(state, req.selector), req.selector, state.queue, view, CHECK_LIMIT, state.nextId);
  const denied = ctx.allocator.denied?.() ?? null;
  const now = ctx.now();
  const first = plan.ids.length > CHECK_PAGE ? plan.ids.slice(0, CHECK_PAGE) : plan.ids;
  const more = plan.ids.length > CHECK_PAGE ? { more: ctx.listings.keep(plan.ids, CHECK_PAGE, now) } : {};
  return {
    ...page(ctx, req.id, first),
    ...(denied !== null && plan.anyQueued ? { notice: deniedNotice(denied) } : {}),
    ...(plan.groups !== null ? { groups: plan.groups } : {}),
    ...(view === 'auto' && plan.groups !== null ? { summed: true } : {}),
    matched: plan.matched,
    ...more,
  };
}

/** The next page of a listing. */
export function onCheckMore(ctx: HandlerContext, req: Extract<CliToMaster, { type: 'checkMore' }>): MasterToCli {
  const next = ctx.listings.page(req.cursor, ctx.now());
  return { ...page(ctx, req.id, next.ids), ...(next.more ? { more: req.cursor } : {}) };
}

/** A page of jobs as they are now (a job cleaned since the check was planned is left out), with their notes. */
function page(ctx: HandlerContext, id: number, ids: readonly number[]): JobsReply {
  const jobs = ids.flatMap((i) => ctx.state.jobs.get(i) ?? []);
  const notes =
    ctx.notes.size === 0 ? [] : jobs.flatMap((j): [number, string][] => (ctx.notes.has(j.id) ? [[j.id, ctx.notes.get(j.id)!]] : []));
  return { type: 'jobs', id, jobs, paused: ctx.state.paused, notes, settings: ctx.settings };
}

/** `check`'s line when the shared allocator refuses this user: queued jobs cannot start. */
export function deniedNotice(denied: QpyError): string {
  return `Queued jobs cannot start: ${denied.code === 'NOT_ALLOWED' ? 'not allowed: ' : ''}${denied.message}${denied.hint ? ` (${denied.hint})` : ''}.`;
}

/**
 * The jobs a check selector can match, cheaply: only the running jobs for
 * `check running` (a million stored jobs are not walked for the few that
 * run), and the queued ones for `check queue` while the queue is short;
 * every job otherwise. In submission order.
 */
function candidates(state: HandlerContext['state'], sel: Extract<CliToMaster, { type: 'check' }>['selector']): Iterable<Job> {
  const onlyActive =
    sel.dirs.length === 0 &&
    sel.ranges.length === 0 &&
    sel.statuses.length > 0 &&
    sel.statuses.every((s) => s === 'running' || s === 'starting' || s === 'queue');
  const withQueue = sel.statuses.includes('queue');
  if (!onlyActive || (withQueue && state.queue.length > 100_000)) return state.jobs.values();
  const ids = [
    ...(sel.statuses.includes('running') || sel.statuses.includes('starting') ? state.active : []),
    ...(withQueue ? state.queue : []),
  ];
  return ids.sort((a, b) => a - b).flatMap((id) => state.jobs.get(id) ?? []);
}
