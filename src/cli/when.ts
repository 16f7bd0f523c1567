/**
 * Times on the command line (`qpy history --since/--until`): a date in local
 * time (`2025-03-01`, `2025-03-01 14:30`, `2025-03-01T14:30:05`) or an age
 * before now (`2d`, `6h`, `1d12h`, `30m`, `90s`, `2w`), read as
 * `qpy-admin report` reads them (protocol/time-spec.ts); anything else is one
 * clear error.
 */
import { invalid } from '../errors.js';
import { parseTimeSpec } from '../protocol/time-spec.js';

/** `text` as ms since the epoch (protocol/time-spec.ts, in this machine's time zone), or null when it is not a time. */
export function parseWhen(text: string, now: number): number | null {
  const r = parseTimeSpec(text, { now, offsetMinutes: (ms) => -new Date(ms).getTimezoneOffset() });
  return r.ok ? r.at : null;
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
