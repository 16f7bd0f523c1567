/**
 * Turns an untrusted frame (bytes or text) into a typed message, or a coded
 * error value. Never throws: a daemon answers the error and goes on.
 */
import { SchemaError, type Schema } from './schema.js';
import type { ErrorCode } from './error-codes.js';

export type ParseResult<T> =
  | { ok: true; value: T }
  | { ok: false; code: ErrorCode; message: string; id: number | null };

/** Parse `raw` with `schema`; `maxBytes` bounds the frame size. */
export function parseFrame<T>(raw: string | Buffer, schema: Schema<T>, maxBytes: number): ParseResult<T> {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > maxBytes) return { ok: false, code: 'BAD_FRAME', message: `frame of ${size} bytes exceeds the limit of ${maxBytes}`, id: null };
  let data: unknown;
  try {
    data = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return { ok: false, code: 'BAD_FRAME', message: 'frame is not valid JSON', id: null };
  }
  const id = typeof data === 'object' && data !== null && Number.isSafeInteger((data as { id?: unknown }).id)
    ? ((data as { id: number }).id)
    : null;
  try {
    return { ok: true, value: schema(data, '$') };
  } catch (err) {
    if (err instanceof SchemaError) {
      const unknownType = err.path === '$.type';
      return { ok: false, code: unknownType ? 'BAD_FRAME' : 'BAD_REQUEST', message: unknownType ? `unknown message: ${err.message}` : `invalid message: ${err.message}`, id };
    }
    return { ok: false, code: 'BAD_REQUEST', message: 'invalid message', id };
  }
}
