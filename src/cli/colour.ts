/**
 * Colours for `check` and `config` (reference §5.4): each job's text wrapped
 * in its status colour, `ESC[<30–37>m … ESC[0m`. On only when the user's
 * `colour` setting is true, stdout is a terminal, and NO_COLOR is unset or
 * empty (the no-color.org convention).
 */
import type { Colour, Settings } from '../protocol/settings.js';
import type { JobStatus } from '../protocol/job.js';

const CODES: Record<Colour, number> = { grey: 30, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, white: 37 };

export function paint(text: string, colour: Colour): string {
  return `\x1b[${CODES[colour]}m${text}\x1b[0m`;
}

/** Should output be coloured? */
export function colourOn(settings: Settings, isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return settings.colour && isTTY && !env['NO_COLOR'];
}

/** The colour of a job status under the user's scheme (node_failed, timeout and out_of_memory show as failed). */
export function statusColour(settings: Settings, status: JobStatus): Colour {
  const s = settings.coloursScheme;
  return status === 'node_failed' || status === 'timeout' || status === 'out_of_memory' ? s.failed : s[status];
}
