/**
 * The strings the hostile-input fuzzers draw from: odd ones (names of
 * special jobs and nodes, paths, shell and format metacharacters, control
 * characters), Unicode edge cases (lone surrogates, bidi overrides), and
 * attribute expressions good and hostile (unbalanced, deeply nested).
 * randomString mixes them into a value for a string field of a schema.
 */
import type { Rng } from '../prng.js';

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/ ';
/** Unbalanced and deep attribute expressions (issue 13, finding 5) are odd strings too. */
const DEEP = [
  '('.repeat(3000),
  `${'('.repeat(64)}a${')'.repeat(64)}`,
  `${'not '.repeat(1000)}a`,
  `${'(a and '.repeat(500)}b${')'.repeat(500)}`,
];
/** Attribute expressions, good and hostile, for targets to put where an expression goes. */
export const EXPRESSIONS = [
  ...DEEP,
  'big',
  'big and not gpu',
  '(big or gpu) and not slow',
  'a and',
  'or',
  ')',
  '((a)',
  'not',
  'a b',
  '!',
  '&&',
  '\u0000',
  'gpu'.repeat(1000),
];
const ODD = [
  ...DEEP,
  '',
  'all',
  'queue',
  'running',
  'n1',
  'localhost',
  '..',
  '/',
  '/etc/passwd',
  '$(id)',
  '`id`',
  '%j %s %n',
  '\n',
  '\t',
  '\\',
  '"',
  "' OR 1=1 --",
  '__proto__',
  'constructor',
  'toString',
  '\u0000',
  'null',
  '-1',
  '1e309',
  'NaN',
  '(((',
  'a and not b',
  '\u202e\u0645\u0631\u062d\u0628\u0627',
  'e\u0301\u0301\u0301',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
  '\ufeff',
  '\uffff',
];
const UNICODE = [
  'é',
  'ß',
  '中',
  '文',
  '\u0645',
  '\u05d0',
  '\ud83d\ude00',
  '\ud800',
  '\udc00',
  '\u200b',
  '\u202e',
  '\u0000',
  '\u001b[31m',
  '\ufffd',
  '\ufeff',
];

const ASCII_POOL = ASCII.split('');
const UNICODE_POOL = [...UNICODE, ...ASCII_POOL];

/** A string of `min` to `max` characters: plain, odd, Unicode or long. */
export function randomString(rng: Rng, min: number, max: number): string {
  const cap = Math.min(max, 4096);
  let s: string;
  const how = rng.weighted([
    ['ascii', 60],
    ['odd', 20],
    ['unicode', 12],
    ['long', 8],
  ] as const);
  if (how === 'odd') s = rng.pick(ODD);
  else if (how === 'long') s = 'x'.repeat(rng.int(100, Math.max(100, cap)));
  else {
    const pool = how === 'unicode' ? UNICODE_POOL : ASCII_POOL;
    s = Array.from({ length: rng.int(0, 12) }, () => rng.pick(pool)).join('');
  }
  if (s.length > max) s = s.slice(0, max);
  while (s.length < min) s += rng.pick(ASCII_POOL);
  return s;
}
