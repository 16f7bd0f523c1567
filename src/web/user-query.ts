/**
 * The user's page's filters, from its query string, as `qpy check` takes
 * them: status words (`status=running`, repeated or comma-separated), ID
 * lists (`ids=3,10-14`) and submission directories (`dir=/abs/path`, as the
 * job's directory is stored); a job matching any of them is shown, and no
 * filter shows every job. A bad value, or a parameter the page does not know,
 * is one clear sentence (the answer is 400). Pure.
 */
import { SELECTOR_WORDS, type Selector } from '../protocol/selector.js';
import { MAX_PATH_LENGTH } from '../protocol/job.js';
import { parseIdList } from '../protocol/id-list.js';

export const FILTER_PARAMS = ['status', 'ids', 'dir'] as const;

/** At most this many values per filter (the selector's wire limits are far above). */
const MAX_VALUES = 100;

export type FilterParse = { ok: true; selector: Selector } | { ok: false; message: string };

export function parseFilters(query: URLSearchParams): FilterParse {
  const selector: Selector = { statuses: [], dirs: [], ranges: [] };
  const words: readonly string[] = SELECTOR_WORDS;
  let count = 0;
  for (const [key, value] of query) {
    if (++count > MAX_VALUES * FILTER_PARAMS.length) return { ok: false, message: 'too many filter values' };
    const values = key === 'status' ? value.split(',') : [value];
    for (const v of values.map((x) => x.trim())) {
      if (v === '') continue; // an empty field of the filter form
      if (key === 'status') {
        if (!words.includes(v)) return { ok: false, message: `unknown status "${v}" (use one of: ${SELECTOR_WORDS.join(' ')})` };
        const s = v as Selector['statuses'][number];
        if (!selector.statuses.includes(s)) selector.statuses.push(s);
      } else if (key === 'ids') {
        const r = parseIdList(v.replace(/\s+/g, ','));
        if (r === null) return { ok: false, message: `"${v}" is not a list of job IDs (e.g. 3 or 10-14,20)` };
        selector.ranges.push(...r);
      } else if (key === 'dir') {
        if (!v.startsWith('/') || v.length > MAX_PATH_LENGTH || v.includes('\0'))
          return { ok: false, message: `"${v}" is not an absolute directory path` };
        const dir = v.length > 1 ? v.replace(/\/+$/, '') : v;
        if (!selector.dirs.includes(dir)) selector.dirs.push(dir);
      } else {
        return { ok: false, message: `unknown parameter "${key}" (filters: ${FILTER_PARAMS.join(', ')})` };
      }
    }
  }
  if (selector.statuses.length > 16 || selector.dirs.length > MAX_VALUES || selector.ranges.length > MAX_VALUES)
    return { ok: false, message: 'too many filter values' };
  return { ok: true, selector };
}

/** The query string that gives `selector` back (for the form and links). */
export function filterQuery(selector: Selector): string {
  const q = new URLSearchParams();
  for (const s of selector.statuses) q.append('status', s);
  if (selector.ranges.length > 0) q.set('ids', selector.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(','));
  for (const d of selector.dirs) q.append('dir', d);
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}
