/**
 * Parsing of the job-selection words shared by `check`, `kill` and `clean`
 * (spec §5, "ID-list syntax"): status words, ID lists and directories.
 *
 * Pure: the only contact with the file system is the `isDirectory` callback
 * the caller passes in, so this module is tested without touching disk.
 */
import { SELECTOR_WORDS, type Selector } from '../protocol/selector.js';
import { invalid } from '../errors.js';
import { parseIdList } from '../protocol/id-list.js';

export { parseIdList };

/** The wire limits of a selector (see src/protocol/selector.ts). */
const MAX_STATUSES = 16;
const MAX_DIRS = 1000;
const MAX_RANGES = 100_000;

/** What `parseSelector` returns. */
export type SelectorParse =
  | { ok: true; selector: Selector }
  /**
   * `word` is the offending word. `reason` is `pattern` when the word is no
   * status, ID list or directory, `limit` when the selector would exceed the
   * wire limits (16 statuses, 1000 directories, 100 000 ranges).
   */
  | { ok: false; word: string; reason: 'pattern' | 'limit' };

/**
 * Builds a selector from command-line words. Each word is tried, in order,
 * as a status word (only those in `allowedWords`), then as an ID list, then as
 * a directory through `isDirectory`, which returns the absolute path when the
 * word names an existing directory and null otherwise. Duplicate statuses and
 * directories are dropped; ranges are kept in the order given.
 */
export function parseSelector(
  words: readonly string[],
  allowedWords: readonly string[],
  isDirectory: (word: string) => string | null,
): SelectorParse {
  const selector: Selector = { statuses: [], dirs: [], ranges: [] };
  const selectorWords: readonly string[] = SELECTOR_WORDS;
  for (const word of words) {
    if (allowedWords.includes(word) && selectorWords.includes(word)) {
      const status = word as Selector['statuses'][number];
      if (!selector.statuses.includes(status)) selector.statuses.push(status);
      if (selector.statuses.length > MAX_STATUSES) return { ok: false, word, reason: 'limit' };
      continue;
    }
    const ranges = parseIdList(word);
    if (ranges !== null) {
      selector.ranges.push(...ranges);
      if (selector.ranges.length > MAX_RANGES) return { ok: false, word, reason: 'limit' };
      continue;
    }
    const dir = word === '' ? null : isDirectory(word);
    if (dir !== null) {
      if (!selector.dirs.includes(dir)) selector.dirs.push(dir);
      if (selector.dirs.length > MAX_DIRS) return { ok: false, word, reason: 'limit' };
      continue;
    }
    return { ok: false, word, reason: 'pattern' };
  }
  return { ok: true, selector };
}

/** Several ID-list words (`3 10-14,20`) as ranges; a bad word is one clear error. */
export function idRanges(words: readonly string[]): [number, number][] {
  const out: [number, number][] = [];
  for (const word of words) {
    const r = parseIdList(word);
    if (r === null) throw invalid(`Range with wrong format: ${word}`);
    out.push(...r);
  }
  return out;
}
