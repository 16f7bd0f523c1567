/**
 * Waiting in tests: poll a condition until it holds or a deadline passes.
 * Never sleep for a fixed time and hope.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** Poll `check` every `intervalMs` until it returns a truthy value; return that value. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 20, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last value: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    }
    await delay(intervalMs);
  }
}
