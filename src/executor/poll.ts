/**
 * The one rule for waiting on a node's state (a half-written claim, a group
 * that takes a moment to leave the process table): look again every
 * POLL_STEP_MS until the answer is the one wanted or `limitMs` has passed.
 */
import { setTimeout as delay } from 'node:timers/promises';

export const POLL_STEP_MS = 10;

/** `first`, or the first later answer of `next` for which `done` holds; the last answer once `limitMs` is spent. */
export async function pollUntil<T>(first: T, next: () => Promise<T>, done: (v: T) => boolean, limitMs: number): Promise<T> {
  const deadline = performance.now() + limitMs;
  let v = first;
  while (!done(v) && performance.now() < deadline) {
    await delay(POLL_STEP_MS);
    v = await next();
  }
  return v;
}
