/**
 * Reading a command's words for completion, pure: which are options (and
 * their values) and which are positional arguments, and so what the word
 * being completed is: an option's name, an option's value, or a positional
 * argument. Also the candidates for option names and for the atoms of a
 * node attribute expression.
 */

/** One option as the parser knows it: `flags` its short and long forms, `value` the name of its value (null: a flag). */
export interface OptionSpec {
  flags: readonly string[];
  value: string | null;
  /** Kept for old scripts, not offered (`--memory`, `--node_attr`). */
  hidden: boolean;
}

export type LinePosition =
  | { kind: 'option'; used: ReadonlySet<OptionSpec> }
  /** `prefix`: what the candidates must start with besides `current` (`--after=` when bash did not split at `=`). */
  | { kind: 'value'; option: OptionSpec; current: string; prefix: string }
  | { kind: 'positional'; args: string[] };

/**
 * Where `words[index]` stands among a command's words (`words`: those after
 * the command's name). Bash splits `--opt=value` into `--opt`, `=`, `value`.
 * `passThrough`: options end at the first positional argument.
 */
export function readLine(options: readonly OptionSpec[], passThrough: boolean, words: readonly string[], index: number): LinePosition {
  const find = (flag: string) => options.find((o) => o.flags.includes(flag));
  const used = new Set<OptionSpec>();
  const args: string[] = [];
  const value = (option: OptionSpec, current: string, prefix = ''): LinePosition => ({ kind: 'value', option, current, prefix });
  let ended = false;
  for (let i = 0; i < index; i++) {
    const w = words[i]!;
    if (ended || !w.startsWith('-') || w === '-') {
      args.push(w);
      if (passThrough) ended = true;
      continue;
    }
    if (w === '--') {
      ended = true;
      continue;
    }
    const long = w.startsWith('--');
    const option = find(long ? w.replace(/=.*/, '') : w.slice(0, 2));
    if (option) used.add(option);
    if (!option?.value || (long && w.includes('=')) || (!long && w.length > 2)) continue; // a flag, or its value is in the word
    if (long && words[i + 1] === '=') {
      if (index === i + 1) return value(option, '');
      if (index === i + 2) return value(option, words[index] ?? '');
      i += 2;
      continue;
    }
    if (index === i + 1) return value(option, words[index] ?? '');
    i++;
  }
  const current = words[index] ?? '';
  if (ended || !current.startsWith('-')) return { kind: 'positional', args }; // a lone `-` typed asks for the options
  const eq = current.indexOf('=');
  const option = current.startsWith('--') && eq > 0 ? find(current.slice(0, eq)) : undefined;
  if (option?.value) return value(option, current.slice(eq + 1), current.slice(0, eq + 1));
  return { kind: 'option', used };
}

/** The option names that start with `current`: visible ones not given yet, and the help flags. */
export function optionWords(
  options: readonly OptionSpec[],
  always: readonly string[],
  used: ReadonlySet<OptionSpec>,
  current: string,
): string[] {
  const flags = options.filter((o) => !o.hidden && !used.has(o)).flatMap((o) => o.flags);
  return [...flags, ...always].filter((f) => f.startsWith(current));
}

/** The words of attribute expressions besides names (reference §3.7). */
const OPERATORS = ['and', 'or', 'not'];

/**
 * Candidates for the last atom of an attribute expression typed as one word
 * (`big`, `(big)and(fa`, or inside quotes `big and fa`): what was typed up
 * to that atom, then each name (node names and attributes) or operator.
 */
export function expressionWords(names: readonly string[], typed: string): string[] {
  const cut = Math.max(typed.lastIndexOf(' '), typed.lastIndexOf('('), typed.lastIndexOf(')')) + 1;
  const head = typed.slice(0, cut);
  const atom = typed.slice(cut);
  const words = [...new Set([...names, ...(head.trim() === '' ? ['not'] : OPERATORS)])];
  return words.filter((w) => w.startsWith(atom)).map((w) => head + w);
}
