/**
 * Which jobs a command is about: the union (OR) of status words, submission
 * directories and ID ranges. An empty selector matches nothing for kill and
 * clean, and everything for check.
 */
import { arrayOf, int, obj, oneOf, strMax, tuple, type Infer } from './schema.js';
import { SHOWN_STATUSES, MAX_PATH_LENGTH } from './job.js';

/** `starting` picks the running jobs whose launch is not confirmed yet; `running` picks them too. */
export const SELECTOR_WORDS = [...SHOWN_STATUSES, 'all'] as const;

export const selectorSchema = obj({
  statuses: arrayOf(oneOf(SELECTOR_WORDS), 16),
  dirs: arrayOf(strMax(MAX_PATH_LENGTH), 1000),
  /** Inclusive ranges [first, last]; last < first is an empty range. */
  ranges: arrayOf(tuple(int, int), 100_000),
});
export type Selector = Infer<typeof selectorSchema>;

/** Is `id` in one of the sorted, disjoint runs? (binary search) */
export function inSortedRuns(runs: readonly (readonly [number, number])[], id: number): boolean {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = runs[mid]!;
    if (id < a) hi = mid - 1;
    else if (id > b) lo = mid + 1;
    else return true;
  }
  return false;
}
