/**
 * `qpy check --groups`: an array or a load in one line, placed by
 * formatCheck among the lines of the other jobs, in ID order. Pure.
 *
 *   array 7 (jobs 7-1006, indices 1-1000, at most 10 at once): 10 running, 975 queue (5 held), 15 done: ./sim $QPY_ARRAY_INDEX
 *   load 1007 (jobs 1007-1106): 100 queue: ./sim --case 0 …
 */
import type { GroupSummary, JobStatus } from '../protocol/job.js';
import type { Colour } from '../protocol/settings.js';
import { paint } from './colour.js';

const range = (a: number, b: number): string => (a === b ? String(a) : `${a}-${b}`);

export function formatGroup(g: GroupSummary, colourOf?: (status: JobStatus) => Colour): string {
  const what = [`job${g.first === g.last ? '' : 's'} ${range(g.first, g.last)}`];
  if (g.kind === 'array') what.push(`ind${g.indices[0] === g.indices[1] ? 'ex' : 'ices'} ${range(g.indices[0], g.indices[1])}`);
  if (g.cap !== undefined) what.push(`at most ${g.cap} at once`);
  const counts = g.counts.map(([status, n]) => {
    const text = `${n} ${status}${status === 'queue' && g.held > 0 ? ` (${g.held} held)` : ''}`;
    return colourOf ? paint(text, colourOf(status)) : text;
  });
  const command = g.kind === 'load' && g.jobs > 1 ? `${g.command} …` : g.command;
  return `${g.kind} ${g.id} (${what.join(', ')}): ${counts.join(', ')}: ${command.replace(/\n/g, ' ')}\n`;
}
