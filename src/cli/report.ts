/**
 * Running a command-line tool (`qpy`, `qpy-admin`) built with commander:
 * no arguments print the help (exit 1); a failure is one line on stderr,
 * `<tool>: <message> (<hint>)`, and its exit status (1 for expected
 * failures, 2 for a bug, with the stack). No stack traces for expected ones.
 */
import { CommanderError, type Command } from 'commander';
import { QpyError } from '../errors.js';

/**
 * `text` on one line: line breaks (commander's "(Did you mean …?)", a value
 * the user typed with a newline in it) become one space, and other control
 * characters (a terminal escape in an argument) are shown escaped.
 */
export function oneLine(text: string): string {
  return text
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function reportFailure(tool: string, err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
    process.stderr.write(`${tool}: ${oneLine(err.message.replace(/^error: /, ''))} (see ${tool} --help)\n`);
    return 1;
  }
  if (err instanceof QpyError) {
    process.stderr.write(`${tool}: ${oneLine(`${err.message}${err.hint ? ` (${err.hint})` : ''}`)}\n`);
    return err.exitCode;
  }
  process.stderr.write(`${tool}: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 2;
}

/** Parse and run `argv` with `program`; resolves with the exit status. */
export async function runProgram(tool: string, program: Command, argv: string[]): Promise<number> {
  if (argv.length <= 2) {
    process.stderr.write(program.helpInformation());
    return 1;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    return reportFailure(tool, err);
  }
}
