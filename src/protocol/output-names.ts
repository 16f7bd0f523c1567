/**
 * A job's output file names and its name: `sub --out PATTERN`, `--err
 * PATTERN` and `--name NAME` (also `#QPY out=`, `err=`, `name=`), checked
 * and expanded here, once for everyone: the CLI checks what it sends, the
 * master checks again what it accepts and expands the patterns for the
 * launch, and `follow` and the master's `output` read the same files.
 *
 * A pattern is a path, relative to the job's directory or absolute, with
 * codes: `%j` the job ID, `%a` its index in its array or load
 * (QPY_ARRAY_INDEX; empty for a job of neither), `%x` its name (empty when
 * it has none), `%%` a `%`. Any other code, a lone `%` at the end, a control
 * character (NUL and newline among them) or a final `/` is refused. The
 * directories a pattern names are not made: a job whose output file cannot
 * be created fails as one whose directory is missing does. Without a
 * pattern: `job_<ID>.out` and `job_<ID>.err`. The same pattern for both
 * sends standard error into the standard output's file.
 */
import { MAX_JOB_NAME_LENGTH, MAX_PATH_LENGTH } from './job.js';

/** The patterns used when none is given. */
export const DEFAULT_OUT_PATTERN = 'job_%j.out';
export const DEFAULT_ERR_PATTERN = 'job_%j.err';
/** The longest pattern once expanded (so also as given). */
export const MAX_PATTERN_LENGTH = MAX_PATH_LENGTH;

/** What a pattern's codes stand for in one job. */
export interface PatternValues {
  id: number;
  /** QPY_ARRAY_INDEX, or undefined for a job of no array or load. */
  index?: number | undefined;
  name?: string | undefined;
}

/** The spec fields the names come from (a JobSpec, or a submission's template). */
export interface NamedSpec {
  cwd: string;
  name?: string | undefined;
  out?: string | undefined;
  err?: string | undefined;
  group?: { index: number } | undefined;
}

const CONTROL = /[\u0000-\u001f\u007f]/;
/** Widest a `%j` or `%a` can expand to (IDs have at most 15 digits, indices 9). */
const WIDEST_NUMBER = 15;

/** Why `name` cannot be a job's name, or null when it can. */
export function jobNameProblem(name: string): string | null {
  if (name === '') return 'a job name cannot be empty';
  if (name.length > MAX_JOB_NAME_LENGTH) return `a job name has at most ${MAX_JOB_NAME_LENGTH} characters, not ${name.length}`;
  if (CONTROL.test(name)) return 'a job name cannot hold a newline or another control character';
  if (name.includes('/')) return `a job name cannot hold a '/' (it may name a file through %x): ${name}`;
  return null;
}

/**
 * Why `pattern` (given as `what`: `--out`, `--err`) cannot name an output
 * file of a job named `name`, or null when it can.
 */
export function patternProblem(pattern: string, what: string, name?: string): string | null {
  if (pattern === '') return `${what} needs a file name pattern, not an empty one`;
  if (CONTROL.test(pattern)) return `${what} cannot hold a newline, a NUL or another control character`;
  if (pattern.endsWith('/')) return `${what} names a directory, not a file: ${pattern}`;
  let width = 0;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '%') {
      width++;
      continue;
    }
    const c = pattern[++i];
    if (c === undefined) return `${what} ends with a lone %: write %% for a % (${pattern})`;
    if (c !== 'j' && c !== 'a' && c !== 'x' && c !== '%')
      return `${what}: unknown code %${c}; the codes are %j (job ID), %a (array index), %x (job name) and %% (a %)`;
    width += c === 'x' ? (name?.length ?? 0) : c === '%' ? 1 : WIDEST_NUMBER;
  }
  if (width > MAX_PATTERN_LENGTH) return `${what} gives a path that may be longer than ${MAX_PATTERN_LENGTH} characters`;
  return null;
}

/** Why these name and patterns cannot be a job's, or null (each checked as patternProblem, jobNameProblem). */
export function namesProblem(spec: Pick<NamedSpec, 'name' | 'out' | 'err'>): string | null {
  return (
    (spec.name === undefined ? null : jobNameProblem(spec.name)) ??
    (spec.out === undefined ? null : patternProblem(spec.out, '--out', spec.name)) ??
    (spec.err === undefined ? null : patternProblem(spec.err, '--err', spec.name))
  );
}

/** A checked pattern with its codes replaced by `v`'s values. */
export function expandPattern(pattern: string, v: PatternValues): string {
  return pattern.replace(/%([jax%])/g, (_, c: string) =>
    c === 'j' ? String(v.id) : c === 'a' ? (v.index === undefined ? '' : String(v.index)) : c === 'x' ? (v.name ?? '') : '%',
  );
}

/** The output files of job `id`, as the job opens them: relative to its directory, or absolute. */
export function outputFiles(id: number, spec: NamedSpec): { out: string; err: string } {
  const v: PatternValues = { id, index: spec.group?.index, name: spec.name };
  return { out: expandPattern(spec.out ?? DEFAULT_OUT_PATTERN, v), err: expandPattern(spec.err ?? DEFAULT_ERR_PATTERN, v) };
}

/** A file the job names (relative to its directory `cwd`, or absolute) as an absolute path. */
export function inJobDir(cwd: string, file: string): string {
  return file.startsWith('/') ? file : `${cwd.endsWith('/') ? cwd : `${cwd}/`}${file}`;
}

/** The absolute path of job `id`'s standard output file (what `follow` reads). */
export function outputPath(id: number, spec: NamedSpec): string {
  return inJobDir(spec.cwd, outputFiles(id, spec).out);
}
