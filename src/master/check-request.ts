/**
 * `qpy check`, decided: the filter is applied here, and the listing
 * goes out a page at a time (CHECK_PAGE jobs), the rest kept as IDs under a
 * cursor that `checkMore` reads on. A plain check of more than CHECK_LIMIT
 * jobs sums up arrays and loads (one entry each, as `--groups` does) unless
 * `all` asks for every job: a two-million-job array answers in a second,
 * and no reply builds two million jobs.
 */
import type { Job } from '../protocol/job.js';
import type { CliToMaster, MasterToCli } from '../protocol/user-master.js';
import type { QpyError } from '../errors.js';
import { CHECK_LIMIT } from '../protocol/user-master.js';
import { planCheck, type CheckView } from './check-plan.js';
import type { MasterCore } from './core.js';
import { CHECK_PAGE } from './listings.js';
import type { MasterState } from './state.js';

type JobsReply = Extract<MasterToCli, { type: 'jobs' }>;

/** `denied`: why qpy-multiuser refuses this user now, or null (queued jobs cannot start: the listing says so). */
export function onCheck(core: MasterCore, req: Extract<CliToMaster, { type: 'check' }>, denied: QpyError | null, now: number): MasterToCli {
  const { state } = core;
  const view: CheckView = req.groups === true ? 'groups' : req.all === true ? 'jobs' : 'auto';
  const plan = planCheck(candidates(state, req.selector), req.selector, state.queue, view, CHECK_LIMIT, state.nextId);
  const first = plan.ids.length > CHECK_PAGE ? plan.ids.slice(0, CHECK_PAGE) : plan.ids;
  const more = plan.ids.length > CHECK_PAGE ? { more: core.listings.keep(plan.ids, CHECK_PAGE, now) } : {};
  return {
    ...page(core, req.id, first),
    ...(denied !== null && plan.anyQueued ? { notice: deniedNotice(denied) } : {}),
    ...(plan.groups !== null ? { groups: plan.groups } : {}),
    ...(view === 'auto' && plan.groups !== null ? { summed: true } : {}),
    matched: plan.matched,
    ...more,
  };
}

/** The next page of a listing. */
export function onCheckMore(core: MasterCore, req: Extract<CliToMaster, { type: 'checkMore' }>, now: number): MasterToCli {
  const next = core.listings.page(req.cursor, now);
  return { ...page(core, req.id, next.ids), ...(next.more ? { more: req.cursor } : {}) };
}

/** A page of jobs as they are now (a job cleaned since the check was planned is left out), with their notes. */
function page(core: MasterCore, id: number, ids: readonly number[]): JobsReply {
  const jobs = ids.flatMap((i) => core.state.jobs.get(i) ?? []);
  const notes =
    core.notes.size === 0 ? [] : jobs.flatMap((j): [number, string][] => (core.notes.has(j.id) ? [[j.id, core.notes.get(j.id)!]] : []));
  return { type: 'jobs', id, jobs, paused: core.state.paused, notes, settings: core.settings };
}

/** `check`'s line when qpy-multiuser refuses this user: queued jobs cannot start. */
export function deniedNotice(denied: QpyError): string {
  return `Queued jobs cannot start: ${denied.code === 'NOT_ALLOWED' ? 'not allowed: ' : ''}${denied.message}${denied.hint ? ` (${denied.hint})` : ''}.`;
}

/**
 * The jobs a check selector can match, cheaply: only the running jobs for
 * `check running` (a million stored jobs are not walked for the few that
 * run), and the queued ones for `check queue` while the queue is short;
 * every job otherwise. In submission order.
 */
export function candidates(state: MasterState, sel: Extract<CliToMaster, { type: 'check' }>['selector']): Iterable<Job> {
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
