/**
 * The cluster page's utilisation plots (issue 17), drawn on the server as
 * SVG: over a window (the last hour, day or week), the cores each user held
 * stacked, then those busy outside qpy, then the idle ones up to the
 * cluster's cores. Each plot has its text alternative: a caption and a
 * table of each user's mean and peak cores. Pure: samples and `now` in.
 */
import { esc, html, raw, type Html } from './html.js';
import { num } from './cluster-page.js';

/** One sample of the cluster (what qpy-multiuser stores every interval). */
export interface UtilSample {
  /** ms since the epoch. */
  at: number;
  /** Cores of the nodes taking jobs. */
  total: number;
  /** Cores busy outside qpy. */
  outsiders: number;
  /** Cores each user's slots held. */
  users: Record<string, number>;
}

/** Columns a plot has at most: samples falling in one are averaged. */
const COLUMNS = 240;
const W = 720;
const H = 180;
const PAD = { left: 40, right: 8, top: 8, bottom: 20 };
const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#edc948', '#76b7b2', '#ff9da7', '#9c755f', '#e15759', '#bab0ac'];
const OUTSIDE = '#888';
const IDLE = '#e8e8e8';

interface Column {
  at: number;
  total: number;
  outsiders: number;
  users: Map<string, number>;
}

/** Average the samples into at most COLUMNS columns over [from, to]. */
function columns(samples: readonly UtilSample[], from: number, to: number): Column[] {
  const width = (to - from) / COLUMNS;
  const out: Column[] = [];
  let cur: { i: number; n: number; total: number; outsiders: number; users: Map<string, number> } | null = null;
  const close = () => {
    if (cur === null) return;
    const n = cur.n;
    out.push({
      at: from + (cur.i + 0.5) * width,
      total: cur.total / n,
      outsiders: cur.outsiders / n,
      users: new Map([...cur.users].map(([k, v]) => [k, v / n])),
    });
  };
  for (const s of samples) {
    if (s.at < from || s.at > to) continue;
    const i = Math.min(COLUMNS - 1, Math.floor((s.at - from) / width));
    if (cur === null || cur.i !== i) {
      close();
      cur = { i, n: 0, total: 0, outsiders: 0, users: new Map() };
    }
    cur.n++;
    cur.total += s.total;
    cur.outsiders += s.outsiders;
    for (const [u, c] of Object.entries(s.users)) cur.users.set(u, (cur.users.get(u) ?? 0) + c);
  }
  close();
  return out;
}

const fmt = (x: number): string => (Math.round(x * 10) / 10).toString();

/** A stacked band between `lower` and `upper` (per column, each as wide as its column: steps) as an SVG polygon's points. */
function band(cols: Column[], x: (at: number) => number, y: (v: number) => number, lower: number[], upper: number[], half: number): string {
  const edge = (c: Column, v: number) => [`${fmt(x(c.at - half))},${fmt(y(v))}`, `${fmt(x(c.at + half))},${fmt(y(v))}`];
  const top = cols.flatMap((c, i) => edge(c, upper[i]!));
  const bottom = cols.flatMap((c, i) => edge(c, lower[i]!)).reverse();
  return [...top, ...bottom].join(' ');
}

/** One plot: `title` over [now - spanMs, now]. */
export function utilisationPlot(id: string, title: string, samples: readonly UtilSample[], now: number, spanMs: number): Html {
  const from = now - spanMs;
  const cols = columns(samples, from, now);
  const users = [...new Set(cols.flatMap((c) => [...c.users.keys()]))].sort();
  const maxTotal = Math.max(1, ...cols.map((c) => Math.max(c.total, c.outsiders + [...c.users.values()].reduce((a, b) => a + b, 0))));
  const x = (at: number) => PAD.left + ((at - from) / spanMs) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / maxTotal) * (H - PAD.top - PAD.bottom);
  const polys: string[] = [];
  if (cols.length > 0) {
    let lower = cols.map(() => 0);
    const layer = (values: number[], color: string, name: string) => {
      const upper = lower.map((l, i) => l + values[i]!);
      polys.push(
        `<polygon points="${band(cols, x, y, lower, upper, spanMs / COLUMNS / 2)}" fill="${color}" stroke="none" data-series="${name}"><title>${name}</title></polygon>`,
      );
      lower = upper;
    };
    for (const [i, u] of users.entries())
      layer(
        cols.map((c) => c.users.get(u) ?? 0),
        COLORS[i % COLORS.length]!,
        `user ${esc(u)}`,
      );
    layer(
      cols.map((c) => c.outsiders),
      OUTSIDE,
      'busy outside qpy',
    );
    layer(
      cols.map((c, i) => Math.max(0, c.total - lower[i]!)),
      IDLE,
      'idle',
    );
  }
  const axis =
    `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#444"/>` +
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#444"/>` +
    `<text x="${PAD.left - 4}" y="${PAD.top + 10}" text-anchor="end" font-size="11">${fmt(maxTotal)}</text>` +
    `<text x="${PAD.left - 4}" y="${H - PAD.bottom}" text-anchor="end" font-size="11">0</text>` +
    `<text x="${PAD.left}" y="${H - 4}" font-size="11">${spanWords(spanMs)} ago</text>` +
    `<text x="${W - PAD.right}" y="${H - 4}" text-anchor="end" font-size="11">now</text>`;
  const svg = raw(
    `<svg role="img" aria-labelledby="${id}-cap" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" data-points="${cols.length}">${polys.join('')}${axis}</svg>`,
  );
  const inWindow = samples.filter((s) => s.at >= from && s.at <= now).length;
  return html`<figure id="${id}" data-points="${cols.length}" data-samples="${inWindow}">${svg}<figcaption id="${id}-cap">${caption(title, cols, users)}</figcaption>
${summaryTable(id, cols, users)}</figure>`;
}

function spanWords(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48 ? `${fmt(h / 24)} days` : h >= 1 ? `${fmt(h)} h` : `${fmt(ms / 60_000)} min`;
}

const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

function caption(title: string, cols: Column[], users: string[]): string {
  if (cols.length === 0) return `${title}: no samples yet.`;
  const busy = mean(cols.map((c) => c.outsiders + [...c.users.values()].reduce((a, b) => a + b, 0)));
  const total = mean(cols.map((c) => c.total));
  const pct = total > 0 ? ` (${Math.round((100 * busy) / total)}%)` : '';
  return `${title}: on average ${num(Math.round(busy * 10) / 10)} of ${num(Math.round(total * 10) / 10)} cores busy${pct}, ${users.length} user${users.length === 1 ? '' : 's'}; colours: ${users.map((u, i) => `${u} ${COLORS[i % COLORS.length]}`).join(', ') || 'no user'}, outside qpy grey, idle light grey.`;
}

function summaryTable(id: string, cols: Column[], users: string[]): Html {
  if (cols.length === 0) return html``;
  const row = (name: string, xs: number[]) =>
    html`<tr><th scope="row">${name}</th><td class="num">${fmt(mean(xs))}</td><td class="num">${fmt(Math.max(0, ...xs))}</td></tr>`;
  return html`<table id="${id}-table"><caption class="muted">Cores, mean and peak over the window</caption>
<thead><tr><th scope="col">Who</th><th scope="col" class="num">Mean</th><th scope="col" class="num">Peak</th></tr></thead><tbody>
${users.map((u) =>
  row(
    u,
    cols.map((c) => c.users.get(u) ?? 0),
  ),
)}${row(
  'outside qpy',
  cols.map((c) => c.outsiders),
)}${row(
  'idle',
  cols.map((c) => Math.max(0, c.total - c.outsiders - [...c.users.values()].reduce((a, b) => a + b, 0))),
)}</tbody></table>`;
}

/** The three plots: the last hour, day and week. `fine` covers the last day, `coarse` the week. */
export function utilisationPlots(fine: readonly UtilSample[], coarse: readonly UtilSample[], now: number): Html {
  const day = 86_400_000;
  return html`${utilisationPlot('plot-hour', 'Last hour', fine, now, 3_600_000)}
${utilisationPlot('plot-day', 'Last day', fine, now, day)}
${utilisationPlot('plot-week', 'Last week', coarse.length > 0 ? [...coarse, ...fine.filter((s) => s.at > coarse.at(-1)!.at)] : fine, now, 7 * day)}`;
}
