/**
 * The "Slurm pools" section of both web pages (issue 18), rendered from the
 * status document's `pools` (protocol/cluster.ts): each pool's settings and
 * pilot counts, then a table of its pilots (Slurm job ID, state, why Slurm
 * keeps it pending, its node, its time left, why qpy ends it). The user's
 * page also shows each pilot's host and the pool's last Slurm failure; the
 * cluster page, public to whoever reaches it, shows neither (a host is a
 * node's address, a failure's text may name paths). Time left is in whole
 * minutes, so a live page changes once a minute, not every second. Pure:
 * `now` is passed in; every name is escaped.
 */
import { PILOT_ENDING, type PilotView, type PoolView } from '../protocol/cluster.js';
import { html, type Html } from './html.js';

/** Who the page is for: the user (everything of their pools) or the cluster page (names, counts, IDs, states). */
export type PoolAudience = 'user' | 'cluster';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Time left in whole minutes: `under 1 min`, `12 min`, `2 h 05 min` (never negative). */
export function minutesLeft(ms: number): string {
  const m = Math.floor(Math.max(0, ms) / 60_000);
  if (m === 0) return 'under 1 min';
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** A time limit in seconds as `HH:MM:SS`, as the pool line writes it. */
export function timeLimit(s: number): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

/** How many pilots are in each Slurm state: `1 RUNNING, 2 PENDING` (in the order first seen), or `no pilot`. */
export function pilotCounts(pilots: readonly PilotView[]): string {
  const by = new Map<string, number>();
  for (const p of pilots) by.set(p.state, (by.get(p.state) ?? 0) + 1);
  return by.size === 0 ? 'no pilot' : [...by].map(([state, n]) => `${n} ${state}`).join(', ');
}

/** A pool's settings, as one sentence. */
export function poolSettings(pool: PoolView): string {
  const each = `${plural(pool.cores, 'core')}, ${pool.memGB} GB, ${timeLimit(pool.timeLimitS)}`;
  return (
    `Partition ${pool.partition}; up to ${plural(pool.maxNodes, 'pilot')} of ${each} each; ` +
    `reached by ${pool.reach}; a pilot idle ${pool.idleMin} min ends.`
  );
}

function pilotRow(p: PilotView, pool: PoolView, now: number, who: PoolAudience): Html {
  const agent = pool.reach === 'agent' && p.node !== null ? (p.connected ? ', agent connected' : ', agent not connected') : '';
  const left = p.endsAt !== null && p.node !== null ? minutesLeft(p.endsAt - now) : '';
  const ending = p.ending === null ? '' : (PILOT_ENDING[p.ending] ?? p.ending);
  return html`<tr data-pilot="${p.jobId}" data-state="${p.state}"><th scope="row" class="num">${p.jobId}</th>
<td data-k="state">${p.state}${agent}</td><td data-k="reason">${p.reason ?? ''}</td>${who === 'user' ? html`<td data-k="host">${p.host ?? ''}</td>` : ''}
<td data-k="node">${p.node ?? ''}</td><td class="num" data-k="left">${left}</td><td data-k="ending">${ending}</td></tr>`;
}

function poolPart(pool: PoolView, now: number, who: PoolAudience): Html {
  const cols = who === 'user' ? 7 : 6;
  const problem =
    pool.problem === null
      ? ''
      : who === 'user'
        ? html`<p class="warn" data-k="problem">Slurm said: ${pool.problem}</p>`
        : html`<p class="warn" data-k="problem">A Slurm command failed: see qpy-admin status.</p>`;
  return html`<section data-pool="${pool.name}"><h3>Pool ${pool.name}: <span data-k="counts">${pilotCounts(pool.pilots)}</span></h3>
<p data-k="settings">${poolSettings(pool)}</p>${problem}
<table data-pool="${pool.name}"><caption>Pilots of pool ${pool.name} (Slurm jobs)</caption><thead><tr>
<th scope="col" class="num">Slurm job</th><th scope="col">State</th><th scope="col">Pending reason</th>${who === 'user' ? html`<th scope="col">Host</th>` : ''}
<th scope="col">Node</th><th scope="col" class="num">Time left</th><th scope="col">Ending</th></tr></thead>
<tbody>${
    pool.pilots.length === 0
      ? html`<tr><td colspan="${cols}" class="muted">No pilot now: one is submitted while jobs wait.</td></tr>`
      : pool.pilots.map((p) => pilotRow(p, pool, now, who))
  }</tbody></table></section>`;
}

/** The section's content (what goes in its `#pools` element, and what a live page gets again): empty without pools. */
export function poolsSection(pools: readonly PoolView[] | undefined, now: number, who: PoolAudience): Html {
  if (pools === undefined || pools.length === 0) return html``;
  return html`<h2 id="pools-h">Slurm pools</h2>
${pools.map((p) => poolPart(p, now, who))}`;
}
