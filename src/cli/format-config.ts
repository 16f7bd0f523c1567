/**
 * What `qpy config` prints (reference §5.8, without the settings this design
 * dropped): the check pattern as a Python string literal, colour on or off,
 * the attribute settings that are set, how long history is kept (when not the default), the colour scheme when colour is on,
 * and whether job submission is paused. Pure: settings in, text out.
 */
import { DEFAULT_SETTINGS, pyRepr, SCHEME_STATUSES, type Settings } from '../protocol/settings.js';
import { paint } from './colour.js';
import { formatTimeLimit } from '../protocol/time-limit.js';

export function formatConfig(s: Settings, paused: boolean, coloured: boolean): string {
  const py = (b: boolean) => (b ? 'True' : 'False');
  const lines = [
    `Check pattern: ${pyRepr(s.checkFMT)}`,
    `Using a copied version of run script: ${py(s.copyScripts)}`,
    `Using coloured check: ${py(s.colour)}`,
  ];
  if (s.historyDays !== DEFAULT_SETTINGS.historyDays || s.historyJobs !== DEFAULT_SETTINGS.historyJobs)
    lines.push(`History kept: ${s.historyDays} days, at most ${s.historyJobs} records`);
  if (s.defaultAttr !== null) lines.push(`Default node attributes: ${s.defaultAttr}`);
  if (s.andAttr !== null) lines.push(`"and" node attributes: ${s.andAttr}`);
  if (s.orAttr !== null) lines.push(`"or" node attributes: ${s.orAttr}`);
  if (s.defaultTime !== null) lines.push(`Default time limit: ${formatTimeLimit(s.defaultTime)}`);
  if (!s.memLimit) lines.push('Memory limits: off (-m only places jobs)');
  if (s.notifyCommand !== null) lines.push(`Notify command: ${s.notifyCommand}`);
  if (s.notifyMail !== null) lines.push(`Notify mail: ${s.notifyMail}`);
  if (s.sourceTheseFiles.length > 0) lines.push('These files are sourced when running a job:', ...s.sourceTheseFiles.map((f) => `  ${f}`));
  if (s.colour) {
    lines.push('Colours:');
    for (const st of SCHEME_STATUSES) {
      const c = s.coloursScheme[st];
      const line = `  - ${st} (${c})`;
      lines.push(coloured ? paint(line, c) : line);
    }
  }
  if (paused) lines.push('Job submission is paused');
  return `${lines.join('\n')}\n`;
}
