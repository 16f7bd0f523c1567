/**
 * Tab completion, pure: from the words of the command line (as bash splits
 * them) and the command table, what to offer. Each command may describe its
 * arguments (`CommandDef.complete`); job IDs are asked of the master by the
 * caller, only when offered. A lone `?` asks for the command's one-line help
 * instead (reference §7).
 */
import type { JobStatus } from '../protocol/job.js';

/** Which of the user's job IDs to offer. */
export type IdKind = 'all' | 'active' | 'queued' | 'final';

/**
 * `from`: more words looked up when offered: a kind of the user's job IDs
 * (qpy), or `nodes` / `users` of the shared daemon (qpy-admin).
 */
export type Completion =
  | { kind: 'words'; words: readonly string[]; from?: IdKind | 'nodes' | 'users' }
  | { kind: 'files' }
  | { kind: 'commands' }
  | { kind: 'none' };

/** `args`: the command's arguments before the one being completed. */
export type Completer = (args: readonly string[]) => Completion;

export interface Completable {
  name: string;
  summary: string;
  complete?: Completer;
}

/** What the shell gets: candidates, a file or command-name completion, or help text to print. */
export type CompletionReply =
  | { kind: 'words'; words: string[] }
  | { kind: 'files' }
  | { kind: 'commands' }
  | { kind: 'help'; text: string };

export const STATUSES_OF: Record<IdKind, readonly JobStatus[] | null> = {
  all: null,
  active: ['queue', 'running'],
  queued: ['queue'],
  final: ['done', 'failed', 'killed', 'undone', 'node_failed'],
};

export function helpText(tool: string, cmd: Completable | undefined, word: string | undefined): string {
  const line =
    word === undefined ? 'The first argument must be a command.' : cmd ? `${cmd.name}: ${cmd.summary}` : `${word}: unknown command.`;
  return `\n${line}\n---\nFor a brief description of the commands run ${tool} --help.\nFor more, try: ${tool} tutorial${cmd ? ` ${cmd.name}` : ''}`;
}

/**
 * `words`: the line's words after the tool's name; `index`: which of them is
 * being completed (0 = the command). `lookup` gives the words of a `from`.
 */
export async function completeLine(
  tool: string,
  table: readonly Completable[],
  words: readonly string[],
  index: number,
  lookup: (from: NonNullable<Extract<Completion, { kind: 'words' }>['from']>) => Promise<string[]>,
): Promise<CompletionReply> {
  const current = words[index] ?? '';
  const cmd = table.find((c) => c.name === words[0]);
  if (current === '?') return { kind: 'help', text: helpText(tool, index === 0 ? undefined : cmd, index === 0 ? undefined : words[0]) };
  if (index === 0) return { kind: 'words', words: table.map((c) => c.name).filter((n) => n.startsWith(current)) };
  if (!cmd?.complete) return { kind: 'words', words: [] };
  const c = cmd.complete(words.slice(1, index));
  if (c.kind !== 'words') return c.kind === 'none' ? { kind: 'words', words: [] } : c;
  const found = c.from ? await lookup(c.from) : [];
  return { kind: 'words', words: [...c.words, ...found].filter((w) => w.startsWith(current)) };
}

/** The bash script that hooks `tool` up to `tool __complete` (printed by `tool completion bash`). */
export function bashScript(tool: string): string {
  const fn = `_${tool.replace(/[^A-Za-z0-9]/g, '_')}_complete`;
  return `# bash completion for ${tool}: add  eval "$(${tool} completion bash)"  to ~/.bashrc
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} reply
  reply=$(${tool} __complete "$COMP_CWORD" "\${COMP_WORDS[@]:1}" 2>/dev/null) || return 0
  case $reply in
    @files) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    @commands) mapfile -t COMPREPLY < <(compgen -c -- "$cur") ;;
    @help*) if [ "$COMP_TYPE" = 63 ]; then printf '%s' "\${reply#@help}"; COMPREPLY=('---'); else COMPREPLY=(); fi ;;
    *) mapfile -t COMPREPLY <<< "$reply"; [ -z "$reply" ] && COMPREPLY=() ;;
  esac
}
complete -F ${fn} ${tool}
`;
}

/** The reply as `tool __complete` prints it for the script above. */
export function renderReply(r: CompletionReply): string {
  if (r.kind === 'files') return '@files';
  if (r.kind === 'commands') return '@commands';
  if (r.kind === 'help') return `@help${r.text}`;
  return r.words.join('\n');
}
