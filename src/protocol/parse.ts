/**
 * Turns an untrusted frame (bytes or text) into a typed message, or a coded
 * error value. Never throws: a daemon answers the error and goes on.
 */
import { SchemaError, type Schema } from './schema.js';
import type { ErrorCode } from './error-codes.js';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; id: number | null };

/** Parse `raw` with `schema`; `maxBytes` bounds the frame size. */
export function parseFrame<T>(raw: string | Buffer, schema: Schema<T>, maxBytes: number): ParseResult<T> {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  // A frame too big is still read for its id (so that the error names the request), up to 16 times the limit (the server's transport cuts bigger ones).
  if (size > 16 * maxBytes)
    return { ok: false, code: 'BAD_FRAME', message: `frame of ${size} bytes exceeds the limit of ${maxBytes}`, id: null };
  let data: unknown;
  let json = true;
  try {
    data = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    json = false;
  }
  const id = idOf(data);
  if (size > maxBytes) return { ok: false, code: 'BAD_FRAME', message: `frame of ${size} bytes exceeds the limit of ${maxBytes}`, id };
  if (!json) return { ok: false, code: 'BAD_FRAME', message: 'frame is not valid JSON', id: null };
  try {
    return { ok: true, value: schema(data, '$') };
  } catch (err) {
    if (err instanceof SchemaError) {
      const unknownType = err.path === '$.type';
      return {
        ok: false,
        code: unknownType ? 'BAD_FRAME' : 'BAD_REQUEST',
        message: unknownType ? `unknown message: ${err.message}` : `invalid message: ${err.message}`,
        id,
      };
    }
    return { ok: false, code: 'BAD_REQUEST', message: 'invalid message', id };
  }
}

/** The top-level integer `id` of a parsed frame, or null. */
function idOf(data: unknown): number | null {
  return typeof data === 'object' && data !== null && Number.isSafeInteger((data as { id?: unknown }).id)
    ? (data as { id: number }).id
    : null;
}
