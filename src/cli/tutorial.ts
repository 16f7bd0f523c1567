/**
 * `qpy tutorial [WORDS…]` and `qpy-admin tutorial [WORDS…]` (reference §5.10,
 * §6.7): the user or admin guide from the manual, from the first match of the
 * words: a command's own section when they name a command, else the first
 * line containing them (case-insensitive). On a terminal it opens in a pager
 * (`$PAGER`, else `less`), positioned there; otherwise the text from that
 * line on is printed, so it can be piped or grepped.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { invalid, QpyError } from '../errors.js';

/** The 0-based line where the words are first found, or null. */
export function findInGuide(lines: readonly string[], words: string, commands: readonly string[], tool: string): number | null {
  const w = words.trim();
  if (w === '') return 0;
  if (commands.includes(w)) {
    const heading = lines.findIndex((l) => /^#+ /.test(l) && l.includes(`\`${tool} ${w}\``));
    if (heading >= 0) return heading;
  }
  const lower = w.toLowerCase();
  const at = lines.findIndex((l) => l.toLowerCase().includes(lower));
  return at >= 0 ? at : null;
}

export function showGuide(path: string, words: string[], commands: readonly string[], tool: string, out: (s: string) => void): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new QpyError('NOT_FOUND', `cannot read the guide ${path}: ${(err as Error).message}`);
  }
  const lines = text.split('\n');
  const at = findInGuide(lines, words.join(' '), commands, tool);
  if (at === null)
    throw invalid(`"${words.join(' ')}" is not in the guide`, `try a command name, e.g. ${tool} tutorial ${commands[0] ?? ''}`.trim());
  if (!process.stdout.isTTY) {
    out(lines.slice(at).join('\n'));
    return;
  }
  const pager = process.env['PAGER'] || 'less';
  const args = pager === 'less' ? ['-R', `+${at + 1}`, path] : [path];
  const r = spawnSync(pager, args, { stdio: 'inherit', shell: pager !== 'less' });
  if (r.error) out(lines.slice(at).join('\n'));
}
