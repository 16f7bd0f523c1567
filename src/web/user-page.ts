/**
 * The user's page (issue 17), rendered from the master's in-memory jobs:
 * the filter form, the jobs table (real headers; each row's details and
 * usage in the figures `qpy check` shows, protocol/usage.ts) with its
 * kill / hold / release / retry buttons, and the confirmation dialog those
 * open, and the Slurm pools section (pool-section.ts) where the master's
 * allocator has pools. The script (user-script.ts) swaps the table's body
 * for a fresh one when the master says its jobs changed, and the pools
 * section when they change. Pure: `now` is passed in.
 */
import { shownStatus, type Job } from '../protocol/job.js';
import { SELECTOR_WORDS, type Selector } from '../protocol/selector.js';
import { formatCpuTime, formatDuration, formatKB, formatOutcome, formatShare, NODE_WENT_DOWN, runFigures } from '../protocol/usage.js';
import type { PoolView } from '../protocol/cluster.js';
import { html, page, type Html } from './html.js';
import { poolsSection } from './pool-section.js';

export const USER_SCRIPT_PATH = '/user.js';

export interface JobsView {
  user: string;
  /** The rows shown (at most ROWS_SHOWN), in `check`'s order. */
  jobs: readonly Job[];
  /** How many jobs the filters matched. */
  matched: number;
  selector: Selector;
  paused: boolean;
  /** The allocator's Slurm pools (none: no section). */
  pools: readonly PoolView[];
  csrf: string;
  now: number;
}

/** The most rows one page lists (narrow the filters for the rest). */
export const ROWS_SHOWN = 1000;

const pad = (n: number): string => String(n).padStart(2, '0');

/** A time as `YYYY-MM-DD HH:MM:SS`, in the master's local time. */
export function when(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The status words a row shows: `running`, `queue (held)`, `failed (exit 3)`, `killed (being killed)`. */
export function statusText(job: Job): string {
  const s = job.state;
  const base = shownStatus(job);
  if (s.type === 'queue') return s.held ? `${base} (held)` : base;
  if (s.type === 'running') return s.killRequested ? `${base} (being killed)` : base;
  if (s.type === 'node_failed') return `${base} (${NODE_WENT_DOWN})`;
  if (s.type === 'undone') return s.reason ? `${base} (${s.reason})` : base;
  const how = formatOutcome(s.outcome);
  return how ? `${base} (${how})` : base;
}

/** What the job asked for: `2 cores, 4 GB, 1 GPU`. */
export function resources(job: Job): string {
  const { cores, memGB, gpus } = job.spec;
  return [`${cores} core${cores === 1 ? '' : 's'}`, `${memGB} GB`, gpus ? `${gpus} GPU${gpus === 1 ? '' : 's'}` : '']
    .filter(Boolean)
    .join(', ');
}

/** The buttons a job's row offers: kill while queued or running, hold/release while queued, retry once it failed. */
export function actionsOf(job: Job): ('kill' | 'hold' | 'release' | 'retry')[] {
  const s = job.state;
  if (s.type === 'queue') return ['kill', s.held ? 'release' : 'hold'];
  if (s.type === 'running') return s.killRequested ? [] : ['kill'];
  if (s.type === 'failed' || s.type === 'timeout' || s.type === 'out_of_memory' || s.type === 'node_failed') return ['retry'];
  return [];
}

const LABEL = { kill: 'Kill', hold: 'Hold', release: 'Release', retry: 'Retry' } as const;

export function actionButtons(job: Job): Html {
  return html`${actionsOf(job).map(
    (a) => html`<button type="button" data-act="${a}" data-job="${job.id}" aria-label="${LABEL[a]} job ${job.id}">${LABEL[a]}</button> `,
  )}`;
}

/** One job's row. */
export function jobRow(job: Job, now: number): Html {
  const f = runFigures(job, now);
  const s = job.state;
  const node = s.type === 'queue' || s.type === 'undone' ? '' : s.node;
  const cpu = f?.cpuMs == null ? '' : `${formatCpuTime(f.cpuMs)}${f.cpuShare === null ? '' : ` (${formatShare(f.cpuShare)})`}`;
  const peak = f?.usage?.peakKB;
  const mem = peak === undefined ? '' : `${formatKB(peak)}${f?.memShare == null ? '' : ` (${formatShare(f.memShare)})`}`;
  return html`<tr data-id="${job.id}" data-status="${s.type}"><th scope="row" class="num"><a href="/job/${job.id}">${job.id}</a></th>
<td>${job.spec.name ?? ''}</td><td class="status">${statusText(job)}</td><td><code>${job.spec.command}</code></td>
<td>${job.spec.cwd}</td><td>${resources(job)}</td><td>${node}</td><td>${when(job.queuedAt)}</td>
<td class="num">${f ? formatDuration(f.wallMs) : ''}</td><td class="num">${cpu}</td><td class="num">${mem}</td><td>${actionButtons(job)}</td></tr>
`;
}

/** The table's body (also what the script fetches and swaps in). */
export function jobRows(view: Pick<JobsView, 'jobs' | 'now'>): Html {
  if (view.jobs.length === 0) return html`<tr><td colspan="12" class="muted">No jobs match.</td></tr>`;
  return html`${view.jobs.map((j) => jobRow(j, view.now))}`;
}

/** The line above the table: how many jobs matched and are shown. */
export function summary(view: Pick<JobsView, 'jobs' | 'matched' | 'paused'>): string {
  const shown = view.jobs.length < view.matched ? `; the first ${view.jobs.length} are shown (narrow the filters for the rest)` : '';
  return `${view.matched} job${view.matched === 1 ? '' : 's'} match${view.matched === 1 ? 'es' : ''}${shown}.${view.paused ? ' Job submission is paused.' : ''}`;
}

function filterForm(sel: Selector): Html {
  const checked = (w: string) => (sel.statuses.includes(w as Selector['statuses'][number]) ? html` checked` : '');
  const ids = sel.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
  return html`<form method="get" action="/" id="filters"><fieldset><legend>Show jobs that match any of</legend>
${SELECTOR_WORDS.map((w) => html`<label><input type="checkbox" name="status" value="${w}"${checked(w)}> ${w}</label> `)}
<br><label>IDs <input name="ids" value="${ids}" placeholder="3 10-14,20" size="16"></label>
<label>Directory <input name="dir" value="${sel.dirs[0] ?? ''}" placeholder="/abs/path" size="40"></label>
<button type="submit">Filter</button> <a href="/">All jobs</a></fieldset></form>`;
}

/** The confirmation dialog every button opens (Escape or Cancel: nothing happens). */
export const CONFIRM_DIALOG = html`<dialog id="confirm" aria-labelledby="confirm-text"><form method="dialog">
<p id="confirm-text"></p><button value="yes" id="confirm-yes">Yes</button> <button value="no" id="confirm-no" autofocus>Cancel</button>
</form></dialog><p id="message" role="status" aria-live="polite"></p>`;

/** The whole page. */
export function jobsPage(view: JobsView): string {
  const body = html`<main id="page" data-csrf="${view.csrf}">
<h1>Jobs of ${view.user}</h1>${filterForm(view.selector)}${CONFIRM_DIALOG}
<p id="summary">${summary(view)}</p>
<table id="jobs"><caption>Your jobs (live: the table follows the queue)</caption><thead><tr>
<th scope="col">ID</th><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Command</th><th scope="col">Directory</th>
<th scope="col">Asked for</th><th scope="col">Node</th><th scope="col">Submitted</th><th scope="col" class="num">Wall time</th>
<th scope="col" class="num">CPU time (efficiency)</th><th scope="col" class="num">Peak memory (of asked)</th><th scope="col">Actions</th>
</tr></thead><tbody id="jobs-body">${jobRows(view)}</tbody></table>
<div id="pools">${poolsSection(view.pools, view.now, 'user')}</div></main>`;
  return page(`qpy: jobs of ${view.user}`, body, USER_SCRIPT_PATH);
}
