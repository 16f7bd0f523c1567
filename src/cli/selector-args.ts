/**
 * Turning command-line words into a Selector for check, kill and clean: a
 * word is a status word, else an ID list, else an existing directory.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import type { Selector } from '../protocol/selector.js';
import { invalid } from '../errors.js';
import { parseSelector } from './id-list.js';

/** The physical absolute path of `word` if it names a directory, else null. */
function directoryOf(cwd: string, word: string): string | null {
  try {
    const abs = resolve(cwd, word);
    return statSync(abs).isDirectory() ? realpathSync(abs) : null;
  } catch {
    return null;
  }
}

export function selectorFromArgs(words: string[], allowed: readonly string[], cwd: string, complaint: string): Selector {
  const r = parseSelector(words, allowed, (w) => directoryOf(cwd, w));
  if (!r.ok) throw invalid(`${complaint}: ${r.word}`, `use job IDs (e.g. 3 10-14,20), a directory, or one of: ${allowed.join(' ')}`);
  return r.selector;
}
