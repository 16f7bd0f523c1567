/**
 * WebSocket frames (RFC 6455 §5) for the CLI's small client (light-socket.ts):
 * a reader that turns the bytes a server sends into messages, pings and a
 * close, checking everything §5 and §7 ask of a client, and the writer of
 * the client's masked frames. Pure: no sockets, no clock.
 *
 * The reader refuses, with the close code the client must then send:
 *   1002 RSV bits (no extension is ever agreed), unknown opcodes, masked
 *        frames, control frames over 125 bytes or fragmented, continuations
 *        with no message open, a data frame inside a fragmented message, a
 *        64-bit length with its top bit set, a 1-byte close payload, close
 *        codes that may not be sent;
 *   1007 invalid UTF-8 in a text message or a close reason;
 *   1009 a message over `maxPayload` bytes, said as soon as a header shows it.
 * Input is kept as the chunks that came, and a payload is copied only when
 * it spans chunks (once), so a big message split into many chunks costs
 * linear time.
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';

/** What the reader found: a whole message, a ping, a pong, the server's close, or why the connection must fail. */
export type FrameEvent =
  | { kind: 'message'; data: Buffer; binary: boolean }
  | { kind: 'ping'; payload: Buffer }
  | { kind: 'pong' }
  | { kind: 'close'; code: number | null; reason: string }
  | { kind: 'fail'; closeCode: 1002 | 1007 | 1009; reason: string };

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** Close codes a peer may send (§7.4; 1012–1014 registered since): 1004–1006 and 1015 are reserved, 3000–4999 are for libraries and applications. */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

export class FrameReader {
  private chunks: Buffer[] = [];
  private queued = 0;
  /** The open fragmented message: its opcode and parts so far. */
  private fragments: Buffer[] = [];
  private fragmentOpcode = -1;
  private fragmentBytes = 0;
  private done = false;

  constructor(private readonly maxPayload: number) {}

  /** Take the next bytes from the server; the events they complete, in order. After a close or a fail nothing more is read. */
  read(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    if (this.done) return events;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.queued += chunk.length;
    }
    while (!this.done) {
      const ev = this.next();
      if (ev === null) break;
      if (ev.kind === 'close' || ev.kind === 'fail') {
        this.done = true;
        this.chunks = [];
        this.queued = 0;
        this.fragments = [];
      }
      if (ev.kind !== 'none') events.push(ev);
    }
    return events;
  }

  /** The next event, `none` for a frame that only adds to a message, or null until more bytes come. */
  private next(): FrameEvent | { kind: 'none' } | null {
    if (this.queued < 2) return null;
    const head = this.front(Math.min(this.queued, 10));
    const b0 = head[0]!;
    const b1 = head[1]!;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const control = opcode >= 0x8;
    if (b0 & 0x70) return fail(1002, `RSV bits set (${(b0 & 0x70) >> 4}) with no extension agreed`);
    if (opcode > OP_BINARY && opcode !== OP_CLOSE && opcode !== OP_PING && opcode !== OP_PONG)
      return fail(1002, `unknown opcode 0x${opcode.toString(16)}`);
    if (b1 & 0x80) return fail(1002, 'a masked frame from the server');
    let len = b1 & 0x7f;
    let off = 2;
    if (control && !fin) return fail(1002, 'a fragmented control frame');
    if (control && len > 125) return fail(1002, `a control frame of ${len === 126 ? 'over 125' : 'over 65535'} bytes (at most 125)`);
    if (opcode === OP_CONTINUATION && this.fragmentOpcode < 0) return fail(1002, 'a continuation frame with no message to continue');
    if ((opcode === OP_TEXT || opcode === OP_BINARY) && this.fragmentOpcode >= 0)
      return fail(1002, 'a new message inside a fragmented one');
    if (len === 126) {
      if (head.length < 4) return null;
      len = head.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (head.length < 10) return null;
      const big = head.readBigUInt64BE(2);
      if (big >= 1n << 63n) return fail(1002, 'a payload length with its top bit set');
      if (big > BigInt(this.maxPayload)) return fail(1009, `a message over ${this.maxPayload} bytes`);
      len = Number(big);
      off = 10;
    }
    if (!control && this.fragmentBytes + len > this.maxPayload) return fail(1009, `a message over ${this.maxPayload} bytes`);
    if (this.queued < off + len) return null;
    this.take(off);
    const payload = this.take(len);

    if (opcode === OP_PING) return { kind: 'ping', payload };
    if (opcode === OP_PONG) return { kind: 'pong' };
    if (opcode === OP_CLOSE) return closeEvent(payload);
    if (opcode !== OP_CONTINUATION) this.fragmentOpcode = opcode;
    if (!fin) {
      this.fragments.push(payload);
      this.fragmentBytes += len;
      return { kind: 'none' };
    }
    const data = this.fragments.length === 0 ? payload : Buffer.concat([...this.fragments, payload]);
    const binary = this.fragmentOpcode === OP_BINARY;
    this.fragments = [];
    this.fragmentBytes = 0;
    this.fragmentOpcode = -1;
    if (!binary && !isUtf8(data)) return fail(1007, 'invalid UTF-8 in a text message');
    return { kind: 'message', data, binary };
  }

  /** The first `n` queued bytes (n ≤ queued), without consuming them: a view of the first chunk, or a copy of just those bytes. */
  private front(n: number): Buffer {
    const first = this.chunks[0]!;
    return first.length >= n ? first : this.gather(n, false);
  }

  /** Consume and return the first `n` queued bytes (n ≤ queued): a view when the first chunk holds them, else one copy of them. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    this.queued -= n;
    if (n === 0) return Buffer.alloc(0);
    if (first!.length > n) {
      this.chunks[0] = first!.subarray(n);
      return first!.subarray(0, n);
    }
    if (first!.length === n) return this.chunks.shift()!;
    return this.gather(n, true);
  }

  /** Copy the first `n` queued bytes out of the chunks, dropping what is copied when `consume`. */
  private gather(n: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(n);
    let have = 0;
    let k = 0;
    while (have < n) {
      const c = this.chunks[k]!;
      const part = Math.min(c.length, n - have);
      c.copy(out, have, 0, part);
      have += part;
      if (consume && part < c.length) this.chunks[k] = c.subarray(part);
      else k++;
    }
    if (consume) this.chunks.splice(0, k);
    return out;
  }
}

function fail(closeCode: 1002 | 1007 | 1009, reason: string): FrameEvent {
  return { kind: 'fail', closeCode, reason };
}

/** The server's close frame (§5.5.1): no payload, or a valid code and a UTF-8 reason. */
function closeEvent(payload: Buffer): FrameEvent {
  if (payload.length === 0) return { kind: 'close', code: null, reason: '' };
  if (payload.length === 1) return fail(1002, 'a close frame of 1 byte');
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) return fail(1002, `invalid close code ${code}`);
  const reason = payload.subarray(2);
  if (!isUtf8(reason)) return fail(1007, 'invalid UTF-8 in a close reason');
  return { kind: 'close', code, reason: reason.toString('utf8') };
}

/** A client frame (FIN set, masked as §5.3 requires); `mask` is random unless given (tests). */
export function encodeFrame(opcode: number, payload: Buffer, mask: Buffer = randomBytes(4)): Buffer {
  const n = payload.length;
  const headLen = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headLen + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  mask.copy(out, headLen, 0, 4);
  const body = headLen + 4;
  for (let i = 0; i < n; i++) out[body + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/** A close frame's payload: the code, then the reason cut to fit 125 bytes (on a character boundary). */
export function closePayload(code: number, reason = ''): Buffer {
  let text = Buffer.from(reason, 'utf8');
  if (text.length > 123) {
    let end = 123;
    while (end > 0 && (text[end]! & 0xc0) === 0x80) end--;
    text = text.subarray(0, end);
  }
  const out = Buffer.allocUnsafe(2 + text.length);
  out.writeUInt16BE(code, 0);
  text.copy(out, 2);
  return out;
}
