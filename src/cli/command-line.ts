/**
 * Turning `qpy sub` arguments into the shell command line the job runs
 * (fixes spec §4.3.1's lost quoting, §9.2 item 18).
 *
 * One argument is taken verbatim as a shell command line, so
 * `qpy sub 'make && ./run > log'` keeps its operators. Several arguments
 * are joined with spaces, each single-quoted for POSIX sh when it needs it,
 * so `qpy sub echo "a  b"` runs `echo 'a  b'` and prints both spaces.
 */

/** Characters that never need quoting (same set as Python's shlex.quote). */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one word for POSIX sh: unchanged when every character is in
 * `[A-Za-z0-9_@%+=:,./-]`, `''` when empty, otherwise wrapped in single
 * quotes with each `'` written as `'\''`.
 */
export function shQuote(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The shell command line for `qpy sub` arguments: one argument verbatim,
 * otherwise the arguments quoted with `shQuote` and joined by single spaces
 * (no arguments give the empty string).
 */
export function joinCommand(argv: readonly string[]): string {
  if (argv.length === 1) return argv[0] ?? '';
  return argv.map(shQuote).join(' ');
}
