/** Tests for src/cli/join-code.ts: the invitation code read at a hidden prompt or from standard input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { joinCodeText } from '../../../src/transport/invite.js';
import { fingerprintOfBytes } from '../../../src/transport/pin.js';
import { parseCode, readFirstLine, readHidden, readJoinCode, typeKeys, type RawInput } from '../../../src/cli/join-code.js';
import { QpyError } from '../../../src/errors.js';

const CODE = 'abcdefghijklmnopqrstuvwxyz';

test('keys typed in raw mode: characters, backspace, Ctrl-U, arrows dropped, Enter ends, Ctrl-C cancels', () => {
  assert.deepEqual(typeKeys('', 'abc'), { line: 'abc', done: false, cancelled: false });
  assert.deepEqual(typeKeys('abc', '\x7fd\r'), { line: 'abd', done: true, cancelled: false });
  assert.deepEqual(typeKeys('abc', '\x15xy\n'), { line: 'xy', done: true, cancelled: false });
  assert.deepEqual(typeKeys('ab', '\x1b[Dc\x1b[1;5Cd\x04'), { line: 'abcd', done: true, cancelled: false });
  assert.deepEqual(typeKeys('ab', 'c\x03'), { line: '', done: true, cancelled: true });
  assert.deepEqual(typeKeys('', '\x7f\x7f'), { line: '', done: false, cancelled: false });
});

test('the first line of standard input: split chunks, CRLF, no newline at the end', async () => {
  const s = new PassThrough();
  const line = readFirstLine(s);
  s.write('abc');
  s.write('def\r\nsecond line\n');
  assert.equal(await line, 'abcdef');
  const t = new PassThrough();
  const l2 = readFirstLine(t);
  t.end('only');
  assert.equal(await l2, 'only');
  const u = new PassThrough();
  const l3 = readFirstLine(u);
  u.end();
  assert.equal(await l3, '');
});

test('a code: blanks dropped, lowercased; empty or malformed ones are clear errors', () => {
  assert.equal(parseCode(`  ${CODE.toUpperCase()}\t`, false), CODE);
  assert.throws(
    () => parseCode('  ', false),
    (e: unknown) => e instanceof QpyError && e.code === 'INVALID_ARGUMENT' && /no invitation code on standard input/.test(e.message),
  );
  assert.throws(() => parseCode('', true), /no invitation code was entered/);
  assert.throws(() => parseCode(`qpy join 127.0.0.1:4000 ${CODE}`, false), /not an invitation code/);
  assert.throws(() => parseCode(CODE.slice(1), false), /not an invitation code/);
  // With the daemon's certificate fingerprint: 78 letters and digits; a mail client's line break or dashes inside are taken out.
  const withPin = joinCodeText(CODE, fingerprintOfBytes(Buffer.alloc(32, 7)));
  assert.equal(parseCode(withPin.toUpperCase(), false), withPin);
  assert.equal(parseCode(`${withPin.slice(0, 26)}-${withPin.slice(26, 60)}\n  ${withPin.slice(60)}`, true), withPin);
  assert.throws(() => parseCode(withPin.slice(0, 77), false), /not an invitation code \(26 or 78 letters and digits are expected\)/);
});

test('not a terminal: the code is the first line of standard input', async () => {
  const s = new PassThrough();
  const code = readJoinCode(s, new PassThrough());
  s.end(`${CODE}\nignored\n`);
  assert.equal(await code, CODE);
  const e = new PassThrough();
  const empty = readJoinCode(e, new PassThrough());
  e.end('\n');
  await assert.rejects(empty, /no invitation code on standard input/);
});

/** A fake terminal: a stream that records raw mode. */
function terminal(): PassThrough & RawInput & { isTTY: true; modes: boolean[] } {
  const s = new PassThrough() as PassThrough & RawInput & { isTTY: true; modes: boolean[] };
  s.isTTY = true;
  s.modes = [];
  s.setRawMode = (raw: boolean) => s.modes.push(raw);
  return s;
}

test('a terminal: a prompt, raw mode (no echo) while typing and restored after, nothing of the code written out', async () => {
  const tty = terminal();
  const out = new PassThrough();
  let written = '';
  out.on('data', (d) => (written += d));
  // Echo is off before the prompt shows, so a code pasted at once is not echoed.
  let rawAtPrompt: boolean[] | undefined;
  const write = out.write.bind(out);
  out.write = ((chunk: never, ...rest: never[]) => {
    rawAtPrompt ??= [...tty.modes];
    return write(chunk, ...rest);
  }) as typeof out.write;
  const code = readJoinCode(tty, out);
  assert.deepEqual(rawAtPrompt, [true]);
  tty.write(CODE.slice(0, 10));
  tty.write(`${CODE.slice(10)}x\x7f\r`);
  assert.equal(await code, CODE);
  assert.deepEqual(tty.modes, [true, false]);
  assert.equal(written, 'Invitation code: \n');
});

test('a terminal: Ctrl-C cancels with exit status 130, raw mode restored', async () => {
  const tty = terminal();
  const p = readHidden(tty, new PassThrough(), 'Invitation code: ');
  tty.write('abc\x03');
  await assert.rejects(p, (e: unknown) => e instanceof QpyError && e.exitCode === 130);
  assert.deepEqual(tty.modes, [true, false]);
});
