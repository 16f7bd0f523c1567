/**
 * How often a node that does not answer is tried again, whatever the
 * failure: after 1 s, then doubling to 15 s. One rule for the masters' SSH
 * links (ssh.ts) and qpy-multiuser's probes (daemons/multiuser/node-prober.ts), so a
 * returning node is seen within seconds by both.
 */
export const RETRY_FIRST_MS = 1000;
export const RETRY_LAST_MS = 15_000;

/** The wait before the next try, given the wait before the last one (null: the first failure). */
export function nextRetryMs(previousMs: number | null): number {
  return previousMs === null ? RETRY_FIRST_MS : Math.min(previousMs * 2, RETRY_LAST_MS);
}
