/**
 * Points in time as a person types them on a command line, for `--since`
 * and `--until` (`qpy-admin report`; meant to be shared by every command
 * that takes such a bound). Pure: the caller passes the clock's `now` and
 * the local time zone's offset, so this module reads neither.
 *
 * Forms:
 * - a duration before now: one or more `<N><unit>` with unit `s`, `m`, `h`,
 *   `d` or `w` (`30m`, `6h`, `2d`, `1w`, `1d12h`);
 * - `now`;
 * - a local date, `YYYY-MM-DD` (its midnight), or a local date and time,
 *   `YYYY-MM-DDTHH:MM[:SS]` or `YYYY-MM-DD HH:MM[:SS]`; a trailing `Z` makes
 *   it UTC instead of local.
 */

/** Milliseconds per unit of a duration. */
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

const DURATION = /^(?:[0-9]+[smhdw])+$/;
const DURATION_PART = /([0-9]+)([smhdw])/g;
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?(Z?)$/;

/** The forms, in one line, for error messages and --help. */
export const TIME_SPEC_FORMS = 'a duration before now (30m, 6h, 2d, 1w, 1d12h), now, or a date YYYY-MM-DD[THH:MM[:SS]] (local; Z for UTC)';

/** Days in month `mo` (1–12) of year `y`, Gregorian. */
function daysIn(y: number, mo: number): number {
  if (mo === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(mo) ? 30 : 31;
}

export interface TimeContext {
  /** The clock, in ms since the epoch. */
  now: number;
  /** Minutes to add to a UTC time to get local time at `utcMs` (east positive: −getTimezoneOffset()). */
  offsetMinutes(utcMs: number): number;
}

export type TimeSpecResult = { ok: true; at: number } | { ok: false; message: string };

const bad = (text: string, why = ''): TimeSpecResult => ({
  ok: false,
  message: `"${text}" is not a point in time${why}: give ${TIME_SPEC_FORMS}`,
});

/** The point in time `text` names, in ms since the epoch. */
export function parseTimeSpec(text: string, ctx: TimeContext): TimeSpecResult {
  const t = text.trim();
  if (t === 'now') return { ok: true, at: ctx.now };
  if (DURATION.test(t)) {
    let ms = 0;
    for (const m of t.matchAll(DURATION_PART)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    if (!Number.isSafeInteger(ms) || ms > ctx.now) return bad(text, ' (that is before 1970)');
    return { ok: true, at: ctx.now - ms };
  }
  const d = DATE.exec(t);
  if (d === null) return bad(text);
  const [y, mo, day, h, mi, s] = [d[1], d[2], d[3], d[4] ?? '0', d[5] ?? '0', d[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || day < 1 || day > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) return bad(text, ' (no such date or time)');
  const asUtc = Date.UTC(y, mo - 1, day, h, mi, s);
  if (d[7] === 'Z') return { ok: true, at: asUtc };
  // Local wall time → UTC: subtract the offset in force then (looked up twice, so a time near a change of offset lands right).
  const first = asUtc - ctx.offsetMinutes(asUtc) * 60_000;
  return { ok: true, at: asUtc - ctx.offsetMinutes(first) * 60_000 };
}
