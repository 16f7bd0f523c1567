/**
 * The cluster page served by qpy-multiuser (issue 17), rendered from the
 * status document `qpy-admin status --json` prints (protocol/cluster.ts):
 * the nodes and users tables, the Slurm pools (pool-section.ts) where the
 * status has any, and the page around them. Pure text: `now` is passed in.
 * The page is public to whoever reaches it: it shows counts and marks only,
 * never a warning's free text (which may name paths or jobs), a node's
 * address (nor a pilot's host), or anything of a job but its cores.
 */
import type { ClusterStatus, NodeView, UserView } from '../protocol/cluster.js';
import { html, page, raw, type Html } from './html.js';
import { poolsSection } from './pool-section.js';

/** The plots' layout: each plot with its caption, its table beside it. */
const PLOT_STYLE = `figure { display: flex; flex-wrap: wrap; gap: .5em 1.5em; align-items: flex-start; margin: 1em 0; }
figure svg { border: 1px solid #ddd; max-width: 100%; height: auto; } figcaption { order: -1; flex-basis: 100%; max-width: 60em; }`;

/** Numbers as the page prints them: integers as they are, others with at most one decimal. */
export const num = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(1));

/** A node's marks: down, drained, removed, unreachable for some users (by name only). */
function marks(n: NodeView): Html {
  const m: Html[] = [];
  if (!n.up) m.push(html`<span class="down">down</span>`);
  if (n.drained) m.push(html`<span class="warn">drained</span>`);
  if (n.removed) m.push(html`<span class="warn">removed</span>`);
  if (n.unreachableFor !== undefined && n.unreachableFor.length > 0)
    m.push(html`<span class="warn">unreachable for ${n.unreachableFor.map((u) => u.user).join(', ')}</span>`);
  if (n.gpus?.problem !== undefined) m.push(html`<span class="warn">GPUs unknown</span>`);
  return m.length === 0 ? html`<span class="muted">up</span>` : html`${m.map((x, i) => html`${i > 0 ? ' ' : ''}${x}`)}`;
}

function nodeRow(n: NodeView): Html {
  const gpus = n.gpus === undefined ? '-' : `${n.gpus.used}/${n.gpus.total * n.gpus.share}`;
  const gpuOut = n.gpus === undefined || n.gpus.outsiders.length === 0 ? '' : ` (${n.gpus.outsiders.length} held outside qpy)`;
  return html`<tr data-node="${n.name}"><th scope="row">${n.name}</th>
<td class="num" data-k="cores">${n.usedCores}/${n.cores}</td>
<td class="num" data-k="outsiders">${n.outsiders}</td>
<td class="num" data-k="mem">${num(n.reqMemGB)}/${num(n.totalMemGB)}</td>
<td class="num" data-k="gpus">${gpus}${gpuOut}</td>
<td class="num" data-k="load">${n.load.toFixed(2)}</td>
<td data-k="state">${marks(n)}</td></tr>`;
}

/** A user's entitlement under the rules: its minimum plus its part of the rest (cores, and GPUs where there are). */
function userRow(u: UserView): Html {
  const gpuUse = u.gpus === undefined ? '-' : `${u.gpus.used}`;
  const gpuEnt = u.gpus === undefined ? '-' : `${u.gpus.min + u.gpus.extra}`;
  return html`<tr data-user="${u.name}"><th scope="row">${u.name}</th>
<td class="num" data-k="entitled">${u.minCores + u.extraCores}</td>
<td class="num" data-k="cores">${u.usedCores}</td>
<td class="num" data-k="gpu-entitled">${gpuEnt}</td>
<td class="num" data-k="gpus">${gpuUse}</td>
<td class="num" data-k="queue">${u.queueSize}</td></tr>`;
}

/** The live part of the page: the totals line, the nodes and users tables and the pools (what the event stream sends again). */
export function clusterTables(s: ClusterStatus, now: number): Html {
  const gpus = s.gpus === undefined ? '' : `, GPUs ${s.gpus.used}/${s.gpus.total} in use`;
  const warn = s.warnings.length === 0 ? '' : ` ${s.warnings.length} warning${s.warnings.length === 1 ? '' : 's'}: see qpy-admin status.`;
  return html`<p id="totals">Cores <span data-k="used">${s.usedCores}</span>/<span data-k="total">${s.totalCores}</span> in use${gpus}.${warn}</p>
<h2 id="nodes-h">Nodes</h2>
<table id="nodes" aria-labelledby="nodes-h"><thead><tr><th scope="col">Node</th><th scope="col" class="num">Cores used/total</th>
<th scope="col" class="num">Busy outside qpy</th><th scope="col" class="num">Memory GB promised/total</th>
<th scope="col" class="num">GPUs used/total</th><th scope="col" class="num">Load</th><th scope="col">State</th></tr></thead>
<tbody>${s.nodes.length === 0 ? html`<tr><td colspan="7">No nodes.</td></tr>` : s.nodes.map(nodeRow)}</tbody></table>
<h2 id="users-h">Users</h2>
<table id="users" aria-labelledby="users-h"><thead><tr><th scope="col">User</th><th scope="col" class="num">Cores entitled</th>
<th scope="col" class="num">Cores in use</th><th scope="col" class="num">GPUs entitled</th><th scope="col" class="num">GPUs in use</th>
<th scope="col" class="num">Jobs queued</th></tr></thead>
<tbody>${s.users.length === 0 ? html`<tr><td colspan="6">No users registered.</td></tr>` : s.users.map(userRow)}</tbody></table>
<div id="pools">${poolsSection(s.pools, now, 'cluster')}</div>`;
}

/** The whole page `/`: the live tables, then the plots (rendered apart: cluster-plot.ts), and a form for the report. */
export function clusterPage(s: ClusterStatus, plots: Html, now: number): string {
  return page(
    'qpy cluster',
    html`<style>${raw(PLOT_STYLE)}</style><h1>qpy cluster</h1>
<p class="muted" id="live-note" aria-live="polite">Live: the tables update by themselves.</p>
<div id="live">${clusterTables(s, now)}</div>
<h2 id="util-h">Utilisation</h2>
<div id="plots">${plots}</div>
<h2 id="report-h">Report</h2>
<form action="/report" method="get"><label>Since <input name="since" value="1d" size="12"></label>
<label>until <input name="until" placeholder="now" size="12"></label> <button type="submit">Show the report</button></form>`,
    '/cluster.js',
  );
}
