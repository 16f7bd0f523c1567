/**
 * Times on the command line (`qpy history --since/--until`): a date in local
 * time (`2025-03-01`, `2025-03-01 14:30`, `2025-03-01T14:30:05`) or an age
 * before now (`2d`, `6h`, `1d12h`, `30m`, `90s`, `2w`). Pure: `now` is passed
 * in; anything else is one clear error.
 */
import { invalid } from '../errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Ages past this many days are refused (a typo, not a date): about 1000 years. */
const MAX_AGE_DAYS = 365_000;

/** `text` as ms since the epoch, or null when it is neither a date nor an age. */
export function parseWhen(text: string, now: number): number | null {
  const t = text.trim();
  if (/^([0-9]{1,9}[smhdw])+$/.test(t)) {
    let ms = 0;
    for (const [, n, u] of t.matchAll(/([0-9]+)([smhdw])/g)) ms += Number(n) * UNIT_MS[u!]!;
    return ms > MAX_AGE_DAYS * UNIT_MS['d']! ? null : now - ms;
  }
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?$/.exec(t);
  if (m === null) return null;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x))) as number[];
  const date = new Date(y!, mo! - 1, d!, h, mi, s);
  // A day or time that does not exist (2025-02-30, 25:00) does not come back as written.
  const same =
    date.getFullYear() === y && date.getMonth() === mo! - 1 && date.getDate() === d && date.getHours() === h && date.getMinutes() === mi;
  return same && date.getSeconds() === s ? date.getTime() : null;
}

/** The [since, until) window of `--since`/`--until` (null: unbounded); a bad time or an empty window is one clear error. */
export function timeWindow(
  since: string | undefined,
  until: string | undefined,
  now: number,
): { since: number | null; until: number | null } {
  const one = (opt: string, text: string | undefined): number | null => {
    if (text === undefined) return null;
    const at = parseWhen(text, now);
    if (at === null)
      throw invalid(
        `Bad time for ${opt}: ${text}`,
        'give a date (2025-03-01, "2025-03-01 14:30") or an age before now (2d, 6h, 1d12h, 30m)',
      );
    return at;
  };
  const w = { since: one('--since', since), until: one('--until', until) };
  if (w.since !== null && w.until !== null && w.since >= w.until) throw invalid(`--since ${since} is not before --until ${until}`);
  return w;
}
