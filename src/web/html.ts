/**
 * Server-rendered HTML for qpy's web pages (issue 17): escaping, and the
 * page shell every page shares (its title, its small stylesheet, one script
 * served by qpy itself). Pure text: no framework, no build step, nothing
 * fetched from outside.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML content and quoted attribute values. */
export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** A tagged template whose interpolations are escaped, except values made by `raw` (or by `html` itself). */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Markup to put in as is (already safe). */
export const raw = (text: string): Html => new Html(text);

type Part = string | number | Html | null | undefined | false | readonly Part[];

function part(p: Part): string {
  if (p === null || p === undefined || p === false) return '';
  if (p instanceof Html) return p.text;
  if (Array.isArray(p)) return p.map(part).join('');
  return esc(p as string | number);
}

/** html`<td>${name}</td>`: every interpolated string is escaped; arrays are joined; null/false print nothing. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += part(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** The stylesheet every page shares: readable, and usable from the keyboard (visible focus). */
const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; } h3 { font-size: 1em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.warn { color: #a40; } .down { color: #b00; } .muted { color: #777; }
:focus-visible { outline: 3px solid #36c; outline-offset: 2px; }
button { font: inherit; padding: .2em .8em; }
`;

/** A whole page: title, stylesheet, body, and its script's URL (served by qpy) if any. */
export function page(title: string, body: Html, script: string | null = null): string {
  return (
    '<!doctype html>\n' +
    html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${raw(STYLE)}</style></head>
<body>${body}${script === null ? '' : raw(`<script src="${esc(script)}" defer></script>`)}</body></html>
`.text
  );
}
