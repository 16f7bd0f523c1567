/**
 * One job on the user's page (`/job/ID`): what it asked for, how it runs or
 * ended, what its run used (the efficiency `qpy why` gives), its earlier
 * attempts, its buttons, and its standard output as it grows (the script
 * reads `/job/ID/output` as `qpy follow` does). Pure: `now` is passed in.
 */
import type { Job } from '../protocol/job.js';
import { efficiencyLines, formatDuration, formatOutcome, runFigures } from '../protocol/usage.js';
import { formatTimeLimit } from '../protocol/time-limit.js';
import { html, page, type Html } from './html.js';
import { actionButtons, CONFIRM_DIALOG, resources, statusText, USER_SCRIPT_PATH, when } from './user-page.js';

export interface JobView {
  user: string;
  job: Job;
  /** Its output file's path (output-names.ts). */
  outPath: string;
  notes: string | null;
  csrf: string;
  now: number;
}

const row = (name: string, value: Html | string | number | null | undefined): Html | '' =>
  value === null || value === undefined || value === '' ? '' : html`<tr><th scope="row">${name}</th><td>${value}</td></tr>`;

/** The details table (also what the script swaps in when the job changes). */
export function jobDetails(v: Pick<JobView, 'job' | 'outPath' | 'now'>): Html {
  const { job } = v;
  const s = job.state;
  const f = runFigures(job, v.now);
  const spec = job.spec;
  const ran = s.type === 'queue' || s.type === 'undone' ? null : s;
  const group = spec.group ? `${spec.group.kind} ${spec.group.id}, index ${spec.group.index}` : null;
  return html`<table id="details"><caption>Job ${job.id}</caption><tbody>
${row('Status', statusText(job))}${row('Name', spec.name)}${row('Command', html`<code>${spec.command}</code>`)}
${row('Directory', spec.cwd)}${row('Asked for', resources(job))}${row('Node attributes', spec.attrs)}
${row('Time limit', spec.time ? formatTimeLimit(spec.time) : null)}${row('Priority', spec.priority)}${row('Array or load', group)}
${row('Output file', v.outPath)}${row('Submitted', when(job.queuedAt))}${row('Node', ran?.node)}
${row('GPUs', ran && 'gpus' in ran && ran.gpus ? ran.gpus.join(',') : null)}
${row('Started', ran ? when(ran.startedAt) : null)}${row('Ended', 'endedAt' in s ? when(s.endedAt) : null)}
${row('Wall time', f ? formatDuration(f.wallMs) : null)}</tbody></table>
<h2>Usage</h2><pre id="usage">${efficiencyLines(job) ?? (s.type === 'running' ? 'Running: its usage is known once it has ended.' : 'It has not run.')}</pre>
${attempts(job)}`;
}

function attempts(job: Job): Html | '' {
  const list = job.attempts ?? [];
  if (list.length === 0) return '';
  return html`<h2>Earlier runs</h2><table><thead><tr><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Node</th>
<th scope="col">Started</th><th scope="col">Wall time</th></tr></thead><tbody>${list.map(
    (a, i) => html`<tr><th scope="row">${i + 1}</th><td>${a.status}${a.outcome ? ` (${formatOutcome(a.outcome)})` : ''}</td>
<td>${a.node}</td><td>${when(a.startedAt)}</td><td>${formatDuration(a.endedAt - a.startedAt)}</td></tr>`,
  )}</tbody></table>`;
}

export function jobPage(v: JobView): string {
  const { job } = v;
  const body = html`<main id="page" data-csrf="${v.csrf}" data-job="${job.id}">
<p><a href="/">← All jobs</a></p><h1>Job ${job.id}${job.spec.name ? ` [${job.spec.name}]` : ''} of ${v.user}</h1>
${CONFIRM_DIALOG}<p id="actions">${actionButtons(job)}</p>
<div id="job">${jobDetails(v)}</div>
${v.notes === null ? '' : html`<h2>Notes</h2><pre>${v.notes}</pre>`}
<h2>Output</h2><p class="muted">${v.outPath}, as it grows (like <code>qpy follow ${job.id}</code>).</p>
<pre id="output" aria-live="off" tabindex="0"></pre></main>`;
  return page(`qpy: job ${job.id}`, body, USER_SCRIPT_PATH);
}
