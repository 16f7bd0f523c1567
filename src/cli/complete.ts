/**
 * Tab completion, pure: from the words of the command line (as bash splits
 * them) and the command table, what to offer. Options and the values they
 * take come from the commander commands the CLI parses with
 * (complete-commander.ts), so they never drift; each command may describe
 * its positional arguments (`CommandDef.complete`). Job IDs, node names and
 * attributes are asked for by the caller (`lookup`), only when offered. A
 * lone `?` asks for the command's one-line help instead (reference §7).
 * The rules for what is offered are in manual/user-guide.md, "Tab completion".
 */
import { NOTIFY_WHEN, type JobStatus } from '../protocol/job.js';
import { chooseIds } from './complete-ids.js';
import { expressionWords, optionWords, readLine, type OptionSpec } from './complete-words.js';

export type { OptionSpec } from './complete-words.js';

/** Which of the user's job IDs to offer. */
export type IdKind = 'all' | 'active' | 'queued' | 'final';

/**
 * Where more words come from, looked up only when offered: a kind of the
 * user's job IDs, node names and attributes (qpy), or `nodes` / `users` of
 * qpy-multiuser (qpy-admin).
 */
export type Source = IdKind | 'attributes' | 'nodes' | 'users';

/** `dirs`: directories too (the command takes directory selectors). */
export type Completion =
  | { kind: 'words'; words: readonly string[]; from?: Source; dirs?: boolean }
  | { kind: 'files' }
  | { kind: 'commands' }
  | { kind: 'none' };

/** `args`: the command's positional arguments before the one being completed (options left out). */
export type Completer = (args: readonly string[]) => Completion;

export interface Completable {
  name: string;
  summary: string;
  /** Its options, as the parser knows them. */
  options?: readonly OptionSpec[];
  /** Options end at the first positional argument (`sub`: the rest is the job's command). */
  passThrough?: boolean;
  complete?: Completer;
}

/**
 * What the shell gets: candidates (and directories), a file name, a program
 * (command name or file), or the lines of a help text to show.
 */
export type CompletionReply =
  | { kind: 'words'; words: string[]; dirs: boolean }
  | { kind: 'files' }
  | { kind: 'commands' }
  | { kind: 'help'; lines: string[] };

export type Lookup = (from: Source) => Promise<string[]>;

export const STATUSES_OF: Record<IdKind, readonly JobStatus[] | null> = {
  all: null,
  active: ['queue', 'running'],
  queued: ['queue'],
  final: ['done', 'failed', 'killed', 'timeout', 'out_of_memory', 'undone', 'node_failed'],
};

/**
 * What an option's value completes to, by the name of its value in the
 * option's flags (`--after <IDS>`). Every value an option of the table takes
 * must be listed (a unit test checks), so a new one is a decision.
 */
export const OPTION_VALUES: Readonly<Record<string, Completion>> = {
  IDS: { kind: 'words', words: [], from: 'all' },
  EXPR: { kind: 'words', words: [], from: 'attributes' },
  N: { kind: 'none' },
  GB: { kind: 'none' },
  LIMIT: { kind: 'words', words: ['none'] },
  'A-B[%N]': { kind: 'none' },
  name: { kind: 'none' },
  NAME: { kind: 'none' },
  PATTERN: { kind: 'files' },
  FMT: { kind: 'none' },
  EVENT: { kind: 'words', words: NOTIFY_WHEN },
  /** A point in time (protocol/time-spec.ts): a few durations before now, to start from. */
  WHEN: { kind: 'words', words: ['now', '6h', '1d', '2d', '1w', '30d'] },
};

/** The options every command and the tool itself take (commander adds them; they are not in `options`). */
const HELP_FLAGS = ['-h', '--help'];
const TOOL_FLAGS = [...HELP_FLAGS, '-V', '--version'];

export function helpText(tool: string, cmd: Completable | undefined, word: string | undefined): string {
  const line =
    word === undefined ? 'The first argument must be a command.' : cmd ? `${cmd.name}: ${cmd.summary}` : `${word}: unknown command.`;
  return `\n${line}\n---\nFor a brief description of the commands run ${tool} --help.\nFor more, try: ${tool} tutorial${cmd ? ` ${cmd.name}` : ''}`;
}

const NOTHING: CompletionReply = { kind: 'words', words: [], dirs: false };

/**
 * `words`: the line's words after the tool's name, as bash splits them (so
 * `--after=3` comes as `--after`, `=`, `3`); `index`: which of them is being
 * completed (0 = the command).
 */
export async function completeLine(
  tool: string,
  table: readonly Completable[],
  words: readonly string[],
  index: number,
  lookup: Lookup,
): Promise<CompletionReply> {
  const current = words[index] ?? '';
  const cmd = table.find((c) => c.name === words[0]);
  if (current === '?') {
    const text = helpText(tool, index === 0 ? undefined : cmd, index === 0 ? undefined : words[0]);
    return { kind: 'help', lines: text.split('\n').filter((l) => l !== '') };
  }
  if (index === 0) {
    const names = current.startsWith('-') ? TOOL_FLAGS : table.map((c) => c.name);
    return { kind: 'words', words: names.filter((n) => n.startsWith(current)), dirs: false };
  }
  if (!cmd) return NOTHING;
  const at = readLine(cmd.options ?? [], cmd.passThrough === true, words.slice(1), index - 1);
  if (at.kind === 'option') return { kind: 'words', words: optionWords(cmd.options ?? [], HELP_FLAGS, at.used, current), dirs: false };
  if (at.kind === 'value') {
    const how = at.option.value === null ? undefined : OPTION_VALUES[at.option.value];
    return offer(how ?? { kind: 'none' }, at.current, at.prefix, lookup);
  }
  return cmd.complete ? offer(cmd.complete(at.args), current, '', lookup) : NOTHING;
}

/** The reply for `c` when the word typed so far is `current`; `prefix` goes before each candidate (`--after=`). */
async function offer(c: Completion, current: string, prefix: string, lookup: Lookup): Promise<CompletionReply> {
  if (c.kind === 'files' || c.kind === 'commands') return c;
  if (c.kind === 'none') return NOTHING;
  const typed = current.replace(/^['"]/, ''); // readline completes inside an opened quote
  const found = c.from ? await lookup(c.from) : [];
  const fixed = c.words.filter((w) => w.startsWith(typed));
  let more: string[];
  let hint: string | null = null;
  if (c.from !== undefined && c.from in STATUSES_OF) ({ words: more, hint } = chooseIds(found.map(Number), typed));
  else if (c.from === 'attributes') more = expressionWords(found, typed);
  else more = found.filter((w) => w.startsWith(typed));
  const words = [...fixed, ...more].map((w) => prefix + w);
  return { kind: 'words', words: hint === null ? words : [...words, hint], dirs: c.dirs === true };
}
