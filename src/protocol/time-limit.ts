/**
 * Wall-time limits as people write them (`sub -t`, `#QPY time=`, the
 * `defaultTime` setting, the administrator's `max_time`), read and written
 * the same way by every tier. Slurm's forms are all accepted, so a user's
 * habits carry over: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM` and
 * `D-HH:MM:SS`. A limit is a whole number of seconds, at least 1 and at most
 * MAX_TIME_LIMIT; `none` (also `unlimited`) means no limit.
 */

/** A year: longer limits are surely typing mistakes. */
export const MAX_TIME_LIMIT = 365 * 86_400;

const FORMS = 'MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS';

/** The forms, for messages: `a time limit is MM, …`. */
export const TIME_LIMIT_FORMS = FORMS;

/**
 * Seconds of a written limit, `null` for `none`/`unlimited`, or a message
 * saying what is wrong.
 */
export function parseTimeLimit(raw: string): { ok: true; seconds: number | null } | { ok: false; message: string } {
  const t = raw.trim();
  if (/^(none|unlimited)$/i.test(t)) return { ok: true, seconds: null };
  const bad = { ok: false as const, message: `a time limit is ${FORMS} (or none), not '${raw}'` };
  const days = /^(\d{1,3})-(\d{1,2})(?::(\d{1,2}))?(?::(\d{1,2}))?$/.exec(t);
  let seconds: number;
  if (days) {
    const [d, h, m, s] = [days[1], days[2], days[3], days[4]].map((x) => Number(x ?? 0)) as [number, number, number, number];
    if (h > 23 || m > 59 || s > 59) return bad;
    seconds = ((d * 24 + h) * 60 + m) * 60 + s;
  } else {
    const parts = /^\d{1,7}(?::\d{1,2}){0,2}$/.test(t) ? t.split(':').map(Number) : null;
    if (parts === null) return bad;
    if (parts.length === 1) seconds = parts[0]! * 60;
    else if (parts.length === 2) {
      if (parts[1]! > 59) return bad;
      seconds = parts[0]! * 60 + parts[1]!;
    } else {
      if (parts[1]! > 59 || parts[2]! > 59) return bad;
      seconds = parts[0]! * 3600 + parts[1]! * 60 + parts[2]!;
    }
  }
  if (seconds < 1) return { ok: false, message: `a time limit is at least 1 second (none: no limit), not '${raw}'` };
  if (seconds > MAX_TIME_LIMIT) return { ok: false, message: `a time limit is at most 365 days, not '${raw}'` };
  return { ok: true, seconds };
}

/** A limit as `D-HH:MM:SS`, or `HH:MM:SS` under a day: the form `check` and `status` show. */
export function formatTimeLimit(seconds: number): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const d = Math.floor(seconds / 86_400);
  const rest = seconds % 86_400;
  const hms = `${pad(Math.floor(rest / 3600))}:${pad(Math.floor((rest % 3600) / 60))}:${pad(rest % 60)}`;
  return d === 0 ? hms : `${d}-${hms}`;
}
