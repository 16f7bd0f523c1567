/**
 * The CLI requests that read the state or change the user's own records,
 * decided: `notes`, `config`, `jobIds`, `wait`, `output`, `status` and
 * `finish`. Where an answer needs I/O (a wait for jobs to end, output read
 * on a node, the allocator's status), the daemon does it between two pure
 * steps named here.
 */
import type { LimitsMethod } from '../protocol/cluster.js';
import type { Job } from '../protocol/job.js';
import type { AllocatorToMaster } from '../protocol/master-allocator.js';
import type { CliToMaster, MasterToCli } from '../protocol/user-master.js';
import { QpyError } from '../errors.js';
import type { MasterCore } from './core.js';
import type { Decision, Effect } from './effects.js';
import { isFinal } from './lifecycle.js';
import { inRanges } from './select.js';
import { applySetting, type SendmailFinder } from './settings.js';
import type { AttrCheck } from './submit-request.js';

type Req<T extends CliToMaster['type']> = Extract<CliToMaster, { type: T }>;

/** The most text one job's notes may hold. */
export const MAX_NOTES = 1024 * 1024;

/** `qpy notes`: the IDs with notes, or one job's notes, appended to first if `text` is given. */
export function onNotes(core: MasterCore, req: Req<'notes'>): Decision<MasterToCli> {
  const ids = () => [...core.notes.keys()].sort((a, b) => a - b);
  if (req.jobId === null) return { reply: { type: 'notes', id: req.id, ids: ids(), text: null }, effects: [] };
  if (!core.state.jobs.has(req.jobId)) throw new QpyError('NOT_FOUND', `No job ${req.jobId}.`, 'see your jobs with: qpy check');
  const effects: Effect[] = [];
  if (req.text !== null) {
    const text = (core.notes.get(req.jobId) ?? '') + req.text;
    if (text.length > MAX_NOTES) throw new QpyError('INVALID_ARGUMENT', `the notes of job ${req.jobId} would exceed 1 MiB`);
    core.notes.set(req.jobId, text);
    effects.push({ type: 'setMeta', key: `note:${req.jobId}`, value: text }, { type: 'commit' });
  }
  return { reply: { type: 'notes', id: req.id, ids: ids(), text: core.notes.get(req.jobId) ?? null }, effects };
}

/** `qpy config`: the settings, or one changed (attribute expressions must parse). */
export function onConfig(core: MasterCore, req: Req<'config'>, checkAttrs: AttrCheck, sendmail?: SendmailFinder): Decision<MasterToCli> {
  const settingsReply = (message: string | null): MasterToCli => ({
    type: 'settings',
    id: req.id,
    settings: core.settings,
    paused: core.state.paused,
    message,
  });
  if (req.key === null) return { reply: settingsReply(null), effects: [] };
  const r = applySetting(core.settings, req.key, req.values, sendmail);
  if (!r.ok) throw new QpyError('INVALID_ARGUMENT', r.message, `see the settings with: qpy config`);
  const s = r.settings;
  if (s.defaultAttr !== core.settings.defaultAttr || s.andAttr !== core.settings.andAttr || s.orAttr !== core.settings.orAttr) {
    for (const expr of [s.defaultAttr, s.andAttr, s.orAttr]) {
      const bad = checkAttrs(expr);
      if (bad) throw new QpyError(bad.code, `${req.key}: ${bad.message}`);
    }
  }
  core.settings = s;
  return {
    reply: settingsReply(r.message),
    effects: [{ type: 'setMeta', key: 'settings', value: JSON.stringify(s) }, { type: 'commit' }],
  };
}

/** `jobIds` (for completion): the IDs of the jobs in these statuses, or of every job. */
export function onJobIds(core: MasterCore, req: Req<'jobIds'>): MasterToCli {
  const want = req.statuses === null ? null : new Set<string>(req.statuses);
  const ids: number[] = [];
  for (const j of core.state.jobs.values()) if (want === null || want.has(j.state.type)) ids.push(j.id);
  return { type: 'ids', id: req.id, ids };
}

/** `qpy wait`, first step: the jobs it names, and those of them not final yet (to be waited for). */
export function waitTargets(core: MasterCore, req: Req<'wait'>): { ids: number[]; pending: number[] } {
  const ids = [...core.state.jobs.keys()].filter((id) => req.all || inRanges(id, req.ranges));
  if (ids.length === 0) throw new QpyError('NOT_FOUND', 'Nothing to wait for: no such jobs.');
  return { ids, pending: ids.filter((id) => !isFinal(core.state.jobs.get(id)!)) };
}

/** `qpy wait`, once none is pending: which are done, and what the others became (a job cleaned meanwhile is left out). */
export function waitedReply(core: MasterCore, reqId: number, ids: readonly number[]): MasterToCli {
  const done: number[] = [];
  const other: [number, string][] = [];
  for (const id of ids) {
    const j = core.state.jobs.get(id);
    if (!j) continue;
    if (j.state.type === 'done') done.push(id);
    else other.push([id, j.state.type]);
  }
  return { type: 'waited', id: reqId, done, other };
}

/**
 * `qpy output`, first step: the reply when nothing is to be read on a node
 * (the CLI then reads the shared copy), and the job whose output to read
 * there (a running job whose launch was confirmed), or null.
 */
export function outputPlan(core: MasterCore, req: Req<'output'>): { reply: Extract<MasterToCli, { type: 'output' }>; read: Job | null } {
  const job = core.state.jobs.get(req.jobId);
  if (!job) throw new QpyError('NOT_FOUND', `No job ${req.jobId}.`, 'see your jobs with: qpy check');
  const reply = { type: 'output' as const, id: req.id, status: job.state.type, read: false, data: '' };
  return { reply, read: job.state.type === 'running' && job.state.pid !== null ? job : null };
}

/**
 * `qpy status`: the allocator's cluster status, with this master's own
 * configuration problem among the warnings, and how each node where it has
 * an agent keeps limits (`limitsOn`: null where none has started yet): a
 * node that cannot is named in a warning, since its jobs run unlimited.
 */
export function statusReply(
  core: MasterCore,
  reqId: number,
  reply: AllocatorToMaster,
  configProblem: QpyError | null,
  limitsOn: (node: string) => LimitsMethod | null = () => null,
): MasterToCli {
  if (reply.type === 'error') throw QpyError.fromReply(reply);
  if (reply.type !== 'status') throw new QpyError('INTERNAL', `allocator answered ${reply.type} to status`);
  const warnings = configProblem ? [...reply.status.warnings, configProblem.message] : [...reply.status.warnings];
  const nodes = reply.status.nodes.map((n) => {
    const limits = limitsOn(n.name);
    if (limits === 'none')
      warnings.push(
        `node ${n.name} keeps no time or memory limits, and measures no usage (no bash 4.4 or no /proc there): its jobs run unlimited`,
      );
    return limits === null ? n : { ...n, limits };
  });
  return { type: 'status', id: reqId, user: core.user, status: { ...reply.status, nodes, warnings } };
}

/** `qpy-master finish` (`qpy stop`): a graceful stop once the reply is sent; `pid` is the master's. */
export function onFinish(core: MasterCore, req: Req<'finish'>, pid: number): Decision<MasterToCli> {
  return { reply: { type: 'finishing', id: req.id, pid, running: core.state.active.size }, effects: [{ type: 'stop' }] };
}
