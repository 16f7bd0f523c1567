/**
 * How `qpy join` gets the invitation code without it ever being on a command
 * line (where every local user sees it in `ps` and /proc/PID/cmdline): typed
 * or pasted at a prompt on the terminal, not echoed; or, when standard input
 * is not a terminal, its first line (`qpy join HOST:PORT < file`, or
 * `echo CODE | qpy join HOST:PORT`: echo is a shell builtin, so no process
 * carries the code in its arguments).
 */
import type { Readable, Writable } from 'node:stream';
import { QpyError, invalid } from '../errors.js';
import { splitJoinCode } from '../transport/invite.js';

/** What the user typed so far, after one more chunk of keys in raw mode. */
export interface LineState {
  line: string;
  /** Enter or Ctrl-D ended the line (or Ctrl-C cancelled it). */
  done: boolean;
  /** Ctrl-C. */
  cancelled: boolean;
}

/**
 * Apply keys typed in raw mode (no echo, no line editing by the terminal) to
 * `line`: printable characters are added, Backspace/DEL takes the last one
 * off, Ctrl-U clears, Enter or Ctrl-D ends, Ctrl-C cancels; escape sequences
 * (arrow keys) and other control characters are dropped. Pure.
 */
export function typeKeys(line: string, keys: string): LineState {
  let out = line;
  for (let i = 0; i < keys.length; i++) {
    const c = keys[i]!;
    if (c === '\r' || c === '\n' || c === '\x04') return { line: out, done: true, cancelled: false };
    if (c === '\x03') return { line: '', done: true, cancelled: true };
    if (c === '\x7f' || c === '\b') out = [...out].slice(0, -1).join('');
    else if (c === '\x15') out = '';
    else if (c === '\x1b') {
      // ESC [ ... final byte, or ESC and one character.
      if (keys[i + 1] === '[') {
        i += 2;
        while (i < keys.length && !/[@-~]/.test(keys[i]!)) i++;
      } else i++;
    } else if (c >= ' ') out += c;
  }
  return { line: out, done: false, cancelled: false };
}

/** The terminal side `readHidden` needs: a readable that can be put in raw mode. */
export interface RawInput extends Readable {
  setRawMode(raw: boolean): unknown;
}

/** Ask for a line on a terminal without echoing it; Ctrl-C rejects (exit 130). */
export function readHidden(input: RawInput, output: Writable, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let state: LineState = { line: '', done: false, cancelled: false };
    const finish = () => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
    };
    const onData = (chunk: Buffer | string) => {
      state = typeKeys(state.line, chunk.toString());
      if (!state.done) return;
      finish();
      if (state.cancelled) reject(new QpyError('INVALID_ARGUMENT', 'cancelled', undefined, 130));
      else resolve(state.line);
    };
    const onEnd = () => {
      finish();
      resolve(state.line);
    };
    // Echo off before the prompt shows: a code pasted the moment the prompt
    // appears must not reach a terminal that still echoes.
    input.setRawMode(true);
    output.write(prompt);
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  });
}

/** The first line of `input` (up to `maxBytes`, without its line end); what there is at its end if no newline comes. */
export function readFirstLine(input: Readable, maxBytes = 4096): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (line: string) => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      input.pause();
      // Let a pipe left open by the writer not hold this process.
      (input as { unref?: () => void }).unref?.();
      resolve(line.replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) return done(text.slice(0, nl));
      if (text.length > maxBytes) done(text.slice(0, maxBytes));
    };
    const onEnd = () => done(text);
    const onError = (err: Error) =>
      reject(new QpyError('INVALID_ARGUMENT', `cannot read the invitation code from standard input: ${err.message}`));
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
    input.resume();
  });
}

/**
 * The code as typed or read: blanks around it are dropped, letters
 * lowercased, and blanks or dashes inside (a mail client's line break) taken
 * out; an empty or malformed one is an error. 26 letters and digits: the code
 * alone; 78: the code and the daemon's certificate fingerprint
 * (transport/invite.ts splitJoinCode).
 */
export function parseCode(text: string, fromTerminal: boolean): string {
  const code = text.trim().toLowerCase();
  if (code === '') {
    throw invalid(
      fromTerminal ? 'no invitation code was entered' : 'no invitation code on standard input',
      fromTerminal ? 'paste the code your administrator sent when asked' : 'give the code as the first line: qpy join HOST:PORT < FILE',
    );
  }
  const joined = code.replace(/[\s-]+/g, '');
  if (!/^[a-z2-7]+$/.test(joined) || splitJoinCode(joined) === null) {
    throw invalid(
      'that is not an invitation code (26 or 78 letters and digits are expected)',
      'copy the code line that qpy-admin users add printed, alone',
    );
  }
  return joined;
}

/** Read the code: at a prompt on a terminal (no echo), else the first line of standard input. */
export async function readJoinCode(
  input: Readable & { isTTY?: boolean } = process.stdin,
  prompt: Writable = process.stderr,
): Promise<string> {
  if (input.isTTY && typeof (input as Partial<RawInput>).setRawMode === 'function') {
    return parseCode(await readHidden(input as RawInput, prompt, 'Invitation code: '), true);
  }
  return parseCode(await readFirstLine(input), false);
}
