/**
 * Which command lines a node agent may exec directly, without a `/bin/sh` in
 * between: a plain simple command of literal words. For such a line, `sh -c`
 * would do nothing but exec the program (dash and bash exec the last simple
 * command of a `-c` string), so running it ourselves gives the same result
 * and saves the shell's exec, about half of a job's cost at the fork floor.
 * Pure: text in, argv out.
 *
 * A line qualifies when every word is made of characters no POSIX shell
 * treats specially (letters, digits, `_ . / : , + @ % ^ = -`) or of
 * single-quoted text, the words split by spaces, and the first word is a
 * program: it holds no `=` (that would be an assignment), and without a `/`
 * it names no shell builtin or keyword (those behave as the shell's own, and
 * an external program of the same name may differ: `echo`, `printf`, `test`).
 * Anything else (quotes of other kinds, `$`, globs, redirections, `;`, `|`,
 * a `~`, a `#`, tabs or newlines) returns null: the agent runs it with sh.
 * The agent still hands a program that turns out to be neither a binary nor
 * a `#!` script to sh (agent-waiter.ts), as `sh -c` would.
 */

const PLAIN = /[A-Za-z0-9_./:,+@%^=-]/;

/** Builtins and keywords of dash and bash, which only a shell runs as the shell would. */
const SHELL_WORDS = new Set(
  (
    '! . : [ [[ ]] { } alias bg break builtin case cd command compgen complete continue declare dirs disown do done echo ' +
    'elif else enable esac eval exec exit export false fc fg fi for function getopts hash help history if in jobs kill ' +
    'let local logout mapfile popd printf pushd pwd read readarray readonly return select set shift shopt source suspend ' +
    'test then time times trap true type typeset ulimit umask unalias unset until wait while'
  ).split(' '),
);

/** The argv a plain command line stands for, or null when only a shell can run it. */
export function directArgv(command: string): string[] | null {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === ' ') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'") {
      const close = command.indexOf("'", i + 1);
      if (close < 0) return null;
      word = (word ?? '') + command.slice(i + 1, close);
      i = close;
    } else if (PLAIN.test(c)) word = (word ?? '') + c;
    else return null;
  }
  if (word !== null) words.push(word);
  const program = words[0];
  if (program === undefined || program === '' || program.includes('=')) return null;
  if (!program.includes('/') && SHELL_WORDS.has(program)) return null;
  return words;
}
