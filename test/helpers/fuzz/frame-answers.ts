/**
 * How the frame fuzzer (frame-fuzz.ts) judges a daemon's answer to one
 * authenticated frame: what the daemon must do with it (decided with its own
 * parser and limits), then the reply: valid against the link's reply schema,
 * the frame's id, never INTERNAL, no stack trace; a refused frame gets
 * BAD_FRAME or BAD_REQUEST only; a text frame that is not UTF-8 closes the
 * link.
 */
import { isUtf8 } from 'node:buffer';
import { parseFrame } from '../../../src/protocol/parse.js';
import type { Schema } from '../../../src/protocol/schema.js';
import { MAX_REQUEST_BYTES } from '../../../src/protocol/version.js';
import type { Frame } from './frames.js';
import type { FuzzTarget } from './frame-fuzz-target.js';
import { bump } from './frame-report.js';
import type { Outcome } from './raw-link.js';

/** A stack trace, or a path into the code, in a message. */
export const STACK = /\n\s+at |\bat [\w.<>]+ \(|node:internal|file:\/\/|\.js:\d+:\d+/;
/** A frame as a finding quotes it: its kind of message, its size and its first bytes. */
export const excerpt = (f: Frame) => {
  const s = f.data
    .subarray(0, 160)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '?');
  return `${f.binary ? 'binary' : 'text'} ${f.data.length} B: ${s}${f.data.length > 160 ? '…' : ''}`;
};

/** What the daemon must do with a frame: act on it (the request parsed), or refuse it (its id) or close the link. */
export type Expected = { accepted: true; msg: Record<string, unknown> } | { accepted: false; id: number | null; close: boolean };

/** What the daemon must do with `frame` (decided with its own parser and limits). */
export function expected(frame: Frame, schema: Schema<unknown>): Expected {
  if (!frame.binary && !isUtf8(frame.data)) return { accepted: false, id: null, close: true };
  const parsed = parseFrame(frame.data, schema, MAX_REQUEST_BYTES);
  if (parsed.ok) return { accepted: true, msg: parsed.value as Record<string, unknown> };
  return { accepted: false, id: parsed.id, close: false };
}

/** Check the answer `out` to `frame` against `want`; each problem goes to `find`. */
export function checkAnswer(
  t: FuzzTarget,
  frame: Frame,
  want: Expected,
  out: Outcome,
  timeout: number,
  answers: Map<string, number>,
  find: (what: string) => void,
) {
  if (out.timedOut) return find(`no answer within ${timeout} ms to ${frame.kind} (${excerpt(frame)})`);
  if (out.replies.length === 0) {
    bump(answers, `closed ${out.closed}`);
    if (!want.accepted && want.close) return;
    return find(`the link was closed (${out.closed}) after ${frame.kind} (${excerpt(frame)})`);
  }
  const text = out.replies[0]!;
  const parsed = parseFrame(text, t.replySchema, Number.MAX_SAFE_INTEGER);
  if (!parsed.ok) return find(`a reply does not validate (${parsed.message}): ${text.slice(0, 300)} to ${frame.kind} (${excerpt(frame)})`);
  const reply = parsed.value as { type: string; id?: number | null; code?: string; message?: string; hint?: string };
  bump(answers, reply.type === 'error' ? `error ${reply.code}` : reply.type);
  if (reply.code === 'INTERNAL') find(`INTERNAL reply: ${reply.message} to ${frame.kind} (${excerpt(frame)})`);
  if (STACK.test(`${reply.message ?? ''}\n${reply.hint ?? ''}`)) find(`a stack trace in a reply: ${text.slice(0, 300)}`);
  if (want.accepted) {
    if (reply.id !== want.msg['id']) find(`reply id ${reply.id} to a request with id ${String(want.msg['id'])}`);
    else if (reply.type !== 'error') t.onReply?.(reply as Record<string, unknown>);
    return;
  }
  if (want.close) return find(`a text frame that is not UTF-8 was answered (${reply.type}) instead of closing the link`);
  if (reply.type !== 'error' || (reply.code !== 'BAD_FRAME' && reply.code !== 'BAD_REQUEST')) {
    return find(`a frame the schema refuses was acted on: ${text.slice(0, 300)} to ${frame.kind} (${excerpt(frame)})`);
  }
  // An oversized frame's id may be unread (null); any other refusal names the frame's id when it has one.
  if (reply.id !== want.id && !(reply.id === null && frame.data.length > MAX_REQUEST_BYTES))
    find(`error reply id ${reply.id}, the frame's id is ${want.id} (${frame.kind})`);
}
