/**
 * The cluster page's report (`/report?since=…&until=…`, issue 17): the
 * figures `qpy-admin report` prints (protocol/usage-report.ts), as a real
 * table, with the form to choose another period. Pure text; the times are
 * shown in UTC, since the reader's time zone is not the daemon's.
 */
import type { UsageReport } from '../protocol/usage-report.js';
import { html, page } from './html.js';

const utc = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
const hours = (h: number | undefined): string => (h ?? 0).toFixed(2);

/** The report page for what was asked (`since`, `until`: the words as typed, shown again in the form). */
export function reportPage(r: UsageReport, asked: { since: string; until: string }): string {
  const gpu = r.total.gpuHours !== undefined;
  const from = r.since === null ? 'the oldest record' : utc(r.since);
  const to = r.until >= r.now ? `${utc(r.now)} (now)` : utc(r.until);
  const busy =
    r.capacityCoreHours !== null && r.capacityCoreHours > 0
      ? html`<p id="busy">The cluster held ${hours(r.total.coreHours)} of ${hours(r.capacityCoreHours)} core-hours (${pct(r.total.coreHours / r.capacityCoreHours)}).</p>`
      : '';
  const body =
    r.users.length === 0
      ? html`<p>No slot was held in this period.</p>`
      : html`<table id="report"><caption>Usage from ${from} to ${to}; rules: ${r.rules}, ${r.totalCores} cores taking jobs.</caption>
<thead><tr><th scope="col">User</th><th scope="col" class="num">Core-hours</th><th scope="col" class="num">GB-hours</th>
${gpu ? html`<th scope="col" class="num">GPU-hours</th>` : ''}<th scope="col" class="num">Jobs</th><th scope="col" class="num">Failed</th>
<th scope="col" class="num">Share</th><th scope="col" class="num">Entitled</th></tr></thead>
<tbody>${r.users.map(
          (
            u,
          ) => html`<tr data-user="${u.name}"><th scope="row">${u.name}</th><td class="num">${hours(u.coreHours)}</td><td class="num">${hours(u.gbHours)}</td>
${gpu ? html`<td class="num">${hours(u.gpuHours)}</td>` : ''}<td class="num" data-k="jobs">${u.jobs}</td><td class="num">${u.failed}</td>
<td class="num">${pct(u.share)}</td><td class="num">${pct(u.entitlement)}</td></tr>`,
        )}</tbody>
<tfoot><tr><th scope="row">total</th><td class="num">${hours(r.total.coreHours)}</td><td class="num">${hours(r.total.gbHours)}</td>
${gpu ? html`<td class="num">${hours(r.total.gpuHours)}</td>` : ''}<td class="num">${r.total.jobs}</td><td class="num">${r.total.failed}</td><td></td><td></td></tr></tfoot></table>`;
  return page(
    'qpy cluster: report',
    html`<h1>qpy cluster: report</h1><p><a href="/">Back to the cluster</a></p>
<form action="/report" method="get"><label>Since <input name="since" value="${asked.since}" size="12"></label>
<label>until <input name="until" value="${asked.until}" placeholder="now" size="12"></label> <button type="submit">Show</button></form>
<p class="muted">A period's bounds: a duration before now (30m, 6h, 2d, 1w), now, or a date YYYY-MM-DD[THH:MM] (the server's time zone; Z for UTC).</p>
${body}${busy}`,
  );
}
