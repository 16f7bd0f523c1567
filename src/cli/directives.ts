/**
 * `#QPY` directives inside job scripts (spec §4.3.2), plus the helpers that
 * find the script of a command and decide whether a file is worth scanning.
 *
 * Format: a line beginning exactly with `#QPY ` holds `key=value` pairs
 * separated by `;` (spaces around `=` and `;` are ignored). The whole text is
 * scanned and a later line overrides an earlier one. Keys:
 *   n_cores | number of cores          positive integer
 *   mem | memory                       non-negative number (GB)
 *   gpus                               non-negative integer (`sub -g`)
 *   node_attr | node attributes        attribute expression (whitespace-normalised)
 *   cpScript | cp_script | copy script true/false (any case)
 *   time                               a time limit as `sub -t` takes it (protocol/time-limit.ts)
 *   name                               the job's name (`--name`)
 *   out | err                          output file patterns (`--out`, `--err`;
 *                                      protocol/output-names.ts), holding no `;` or `=`
 *   notify                             end | fail | all (as `sub --notify`)
 * Extensions, documented: `#QPY cpScript true` (space instead of `=`, the
 * form the manual shows) is accepted for the copy-script keys, and empty
 * pairs (`a=1;`) are skipped. Precedence against command-line flags is the
 * caller's decision.
 */
import { jobNameProblem, patternProblem } from '../protocol/output-names.js';

import { parseTimeLimit } from '../protocol/time-limit.js';
import { NOTIFY_WHEN, type NotifyWhen } from '../protocol/job.js';

/** Values set by the directives of one script; absent keys were not set. */
export interface DirectiveValues {
  cores?: number;
  memGB?: number;
  gpus?: number;
  attrs?: string;
  copyScript?: boolean;
  /** As written: `sub` reads it as it reads -t. */
  time?: string;
  name?: string;
  out?: string;
  err?: string;
  notify?: NotifyWhen;
}

/** What `parseDirectives` returns; `line` is 1-based. */
export type DirectivesParse = { ok: true; values: DirectiveValues } | { ok: false; message: string; line: number };

type Key = 'cores' | 'memGB' | 'gpus' | 'attrs' | 'copyScript' | 'time' | 'name' | 'out' | 'err' | 'notify';

const KEYS: ReadonlyMap<string, Key> = new Map<string, Key>([
  ['n_cores', 'cores'],
  ['number of cores', 'cores'],
  ['mem', 'memGB'],
  ['memory', 'memGB'],
  ['gpus', 'gpus'],
  ['node_attr', 'attrs'],
  ['node attributes', 'attrs'],
  ['cpScript', 'copyScript'],
  ['cp_script', 'copyScript'],
  ['copy script', 'copyScript'],
  ['time', 'time'],
  ['name', 'name'],
  ['out', 'out'],
  ['err', 'err'],
  ['notify', 'notify'],
]);

const PREFIX = '#QPY ';
const INT = /^[+-]?[0-9]+$/;
const FLOAT = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
const COPY_WITHOUT_EQUALS = /^(cpScript|cp_script|copy\s+script)\s+(\S+)$/;

/** Converts one value; undefined when it is not valid for the key. */
function convert(key: Key, v: string): DirectiveValues[Key] | undefined {
  switch (key) {
    case 'cores': {
      const n = Number(v);
      return INT.test(v) && Number.isSafeInteger(n) && n >= 1 ? n : undefined;
    }
    case 'gpus': {
      const n = Number(v);
      return /^[0-9]{1,9}$/.test(v) ? n : undefined;
    }
    case 'memGB': {
      const m = Number(v);
      return FLOAT.test(v) && Number.isFinite(m) && m >= 0 ? m : undefined;
    }
    case 'attrs': {
      const tokens = v.split(/\s+/).filter((t) => t !== '');
      return tokens.length > 0 ? tokens.join(' ') : undefined;
    }
    case 'copyScript': {
      const b = v.toLowerCase();
      return b === 'true' ? true : b === 'false' ? false : undefined;
    }
    case 'time':
      return parseTimeLimit(v).ok ? v : undefined;
    case 'name':
    case 'out':
    case 'err':
      return v; // checked by textProblem
    case 'notify':
      return (NOTIFY_WHEN as readonly string[]).includes(v) ? (v as NotifyWhen) : undefined;
  }
}

/** Why a value of `name`, `out` or `err` is refused, in the words of the flag's own check; null for the other keys. */
function textProblem(key: Key, v: string): string | null {
  return key === 'name' ? jobNameProblem(v) : key === 'out' || key === 'err' ? patternProblem(v, key) : null;
}

/**
 * Scans a script's text for `#QPY` lines. Errors, with the original's
 * wording: `Unknown script option: <k>`, `Invalid syntax for options inside
 * script: <pair>`, `Invalid value for <k>: <v>.`.
 */
export function parseDirectives(scriptText: string): DirectivesParse {
  const values: DirectiveValues = {};
  const lines = scriptText.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').replace(/\r$/, '');
    if (!raw.startsWith(PREFIX)) continue;
    for (const part of raw.slice(PREFIX.length).split(';')) {
      const pair = part.trim();
      if (pair === '') continue;
      let k: string;
      let v: string;
      const pieces = pair.split('=');
      const noEquals = COPY_WITHOUT_EQUALS.exec(pair);
      if (pieces.length === 2) {
        k = (pieces[0] ?? '').trim().replace(/\s+/g, ' ');
        v = (pieces[1] ?? '').trim();
      } else if (pieces.length === 1 && noEquals !== null) {
        k = (noEquals[1] ?? '').replace(/\s+/g, ' ');
        v = noEquals[2] ?? '';
      } else {
        return { ok: false, message: `Invalid syntax for options inside script: ${pair}`, line: i + 1 };
      }
      const key = KEYS.get(k);
      if (key === undefined) return { ok: false, message: `Unknown script option: ${k}`, line: i + 1 };
      const problem = textProblem(key, v);
      if (problem !== null) return { ok: false, message: `Invalid value for ${k}: ${problem}`, line: i + 1 };
      const value = convert(key, v);
      if (value === undefined) return { ok: false, message: `Invalid value for ${k}: ${v}.`, line: i + 1 };
      (values as Record<Key, unknown>)[key] = value;
    }
  }
  return { ok: true, values };
}

/** Characters that end an unquoted word in sh. */
const WORD_END = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);

/**
 * The first word of a shell command line, with sh quoting removed (`'…'`,
 * `"…"`, backslash), or null when the line starts with no word (empty, or an
 * operator such as `;` or `(`). Expansions (`$x`, globs, `~`) are left as
 * written for the caller.
 */
export function scriptWord(command: string): string | null {
  return scriptWordSpan(command)?.word ?? null;
}

/** The first word (as `scriptWord`) and the index just after it in `command`, or null. */
export function scriptWordSpan(command: string): { word: string; end: number } | null {
  let i = 0;
  while (i < command.length && (command[i] === ' ' || command[i] === '\t' || command[i] === '\n')) i++;
  let word = '';
  let started = false;
  while (i < command.length) {
    const c = command.charAt(i);
    if (WORD_END.has(c)) break;
    started = true;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) return null;
      word += command.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < command.length && command[i] !== '"') {
        const next = command.charAt(i + 1);
        if (command[i] === '\\' && (next === '"' || next === '\\' || next === '$' || next === '`')) {
          word += next;
          i += 2;
        } else if (command[i] === '\\' && next === '\n') {
          i += 2;
        } else {
          word += command.charAt(i);
          i++;
        }
      }
      if (i >= command.length) return null;
      i++;
    } else if (c === '\\') {
      if (command[i + 1] !== '\n') word += command.charAt(i + 1);
      i += 2;
    } else {
      word += c;
      i++;
    }
  }
  return started && word !== '' ? { word, end: i } : null;
}

/** How many leading bytes `looksLikeText` inspects. */
export const TEXT_SNIFF_BYTES = 8192;

/** True when the first 8 KiB of `buf` hold no NUL byte (so it is worth scanning for `#QPY`). */
export function looksLikeText(buf: Uint8Array): boolean {
  return !buf.subarray(0, TEXT_SNIFF_BYTES).includes(0);
}
