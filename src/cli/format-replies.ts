/**
 * The short replies of `sub`, `kill` and `clean` (spec §4.3.4, §5.5, §5.6),
 * with the original's singular/plural helper (`get_plural`, §8.2).
 * Every reply line ends with a newline, as the original sent it.
 */

/** The error text (shown after `qpy: `) when kill or clean matched nothing. */
export const NOTHING_TO_DO = 'Nothing to do: required jobs not found.';

/**
 * The original `get_plural`: `[noun, count text]`. A number gives `No` for 0
 * and the number otherwise; a list of words gives `No` when empty, else the
 * words as `a`, `a and b`, `a, b and c`. The noun is singular only for
 * exactly one (1, or a list of one).
 */
export function getPlural(x: number | readonly string[], singular = 'job', plural = `${singular}s`): [noun: string, count: string] {
  if (typeof x === 'number') return [x === 1 ? singular : plural, x === 0 ? 'No' : String(x)];
  if (x.length === 0) return [plural, 'No'];
  if (x.length === 1) return [singular, x[0] ?? ''];
  return [plural, `${x.slice(0, -1).join(', ')} and ${x[x.length - 1] ?? ''}`];
}

/** `<count> <noun>`: 0 → `No jobs`, 1 → `1 job`, 16 → `16 jobs`, [a,b] → `a and b jobs`. */
export function plural(x: number | readonly string[], singular = 'job', pluralNoun = `${singular}s`): string {
  const [noun, count] = getPlural(x, singular, pluralNoun);
  return `${count} ${noun}`;
}

/**
 * The `kill` reply: `<n> job(s) removed from the queue.` when queued jobs
 * were removed, then `<n> job(s) will be killed.` when running jobs are being
 * killed. Empty when both lists are empty (the caller then reports
 * NOTHING_TO_DO as an error).
 */
export function formatKill(unqueued: number, killing: number): string {
  let out = '';
  if (unqueued > 0) out += `${plural(unqueued)} removed from the queue.\n`;
  if (killing > 0) out += `${plural(killing)} will be killed.\n`;
  return out;
}

/**
 * The `clean` reply: `<n> finished job(s) removed.`. Empty when nothing was
 * removed (the caller then reports NOTHING_TO_DO as an error).
 */
export function formatClean(removed: number): string {
  if (removed === 0) return '';
  const [noun, count] = getPlural(removed);
  return `${count} finished ${noun} removed.\n`;
}

/** The `sub` reply: `Job <ID> received.`. */
export function formatSubmitted(id: number): string {
  return `Job ${id} received.\n`;
}
