/**
 * QpyError: the one error type for expected failures. It carries a stable
 * code (asserted by tests, sent on the wire unchanged), a message for people,
 * an optional hint, and the process exit code the CLI uses.
 */
import type { ErrorCode } from './protocol/error-codes.js';
import type { ErrorReply } from './protocol/user-master.js';

export class QpyError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'QpyError';
  }

  /** The wire form of this error, answering request `id`. */
  toReply(id: number | null): ErrorReply {
    return this.hint === undefined
      ? { type: 'error', id, code: this.code, message: this.message }
      : { type: 'error', id, code: this.code, message: this.message, hint: this.hint };
  }

  static fromReply(reply: ErrorReply): QpyError {
    return new QpyError(reply.code, reply.message, reply.hint);
  }
}

/** Shorthand for the most common failure: a bad value typed by the user. */
export function invalid(message: string, hint?: string): QpyError {
  return new QpyError('INVALID_ARGUMENT', message, hint);
}
