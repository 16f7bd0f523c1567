/**
 * The ID-list syntax (spec §5, "ID-list syntax": `3`, `10-14`, `3,10-14,20`),
 * shared by the CLI's words and the web page's `ids` filter. Pure.
 */

/** Longest decimal ID accepted; keeps every ID a safe integer. */
const MAX_ID_DIGITS = 15;

/** Parses one positive decimal ID (IDs start at 1), or returns null. */
function parseId(text: string): number | null {
  if (!/^[0-9]+$/.test(text) || text.length > MAX_ID_DIGITS) return null;
  const n = Number(text);
  return n >= 1 ? n : null;
}

/**
 * Parses one ID-list word: comma-separated items, each `N` or `A-B`
 * (inclusive). `B < A` is kept as an empty range. Returns null for anything
 * else: `3-`, `-3`, `1-2-3`, `0`, empty items (`1,,2`, `1,`), non-numbers.
 */
export function parseIdList(word: string): [number, number][] | null {
  if (word === '') return null;
  const ranges: [number, number][] = [];
  for (const item of word.split(',')) {
    const parts = item.split('-');
    if (parts.length === 1) {
      const n = parseId(parts[0] ?? '');
      if (n === null) return null;
      ranges.push([n, n]);
    } else if (parts.length === 2) {
      const a = parseId(parts[0] ?? '');
      const b = parseId(parts[1] ?? '');
      if (a === null || b === null) return null;
      ranges.push([a, b]);
    } else {
      return null;
    }
  }
  return ranges;
}
