/**
 * Which job IDs tab completion offers, pure. IDs by prefix: only those that
 * start with the digits typed (after the last `,` or `-` of an ID list such
 * as `3,10-1`, which stays in front). Never a flood: past FEW_IDS matches,
 * the NEWEST_IDS highest ones and one hint, which names how many match and
 * their ranges and can never be inserted (it shares no first character with
 * the IDs, so bash inserts nothing and lists the candidates).
 */
/** Up to this many matching IDs are all offered. */
export const FEW_IDS = 20;
/** Past FEW_IDS, the newest this many are offered, with the hint. */
export const NEWEST_IDS = 10;
/** The hint's list of ranges is cut past this many characters. */
const RANGES_WIDTH = 24;

/** `ids`: the jobs that may be offered; `typed`: the word so far. Candidates, each the whole word, and the hint if any. */
export function chooseIds(ids: readonly number[], typed: string): { words: string[]; hint: string | null } {
  if (!/^[0-9,-]*$/.test(typed)) return { words: [], hint: null };
  const cut = Math.max(typed.lastIndexOf(','), typed.lastIndexOf('-')) + 1;
  const head = typed.slice(0, cut);
  const digits = typed.slice(cut);
  const matching = [...new Set(ids)].filter((id) => String(id).startsWith(digits)).sort((a, b) => a - b);
  if (matching.length <= FEW_IDS) return { words: matching.map((id) => head + id), hint: null };
  return { words: matching.slice(-NEWEST_IDS).map((id) => head + id), hint: idHint(matching, digits) };
}

/** `(138 jobs: 1-40,45-138; type digits)`, or `(50 start with 1: 1,10-19,100-138; type more)`. */
export function idHint(matching: readonly number[], digits: string): string {
  let ranges = runs(matching)
    .map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
    .join(',');
  if (ranges.length > RANGES_WIDTH) ranges = `${ranges.slice(0, RANGES_WIDTH).replace(/,[^,]*$/, '')},...`;
  const which = digits === '' ? `${matching.length} jobs` : `${matching.length} start with ${digits}`;
  return `(${which}: ${ranges}; type ${digits === '' ? 'digits' : 'more'})`;
}

/** Sorted IDs as runs of consecutive ones. */
function runs(sorted: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const id of sorted) {
    const last = out.at(-1);
    if (last && id === last[1] + 1) last[1] = id;
    else out.push([id, id]);
  }
  return out;
}
