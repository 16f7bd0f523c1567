/**
 * Killing a job's process group, the same on every node: TERM (waiting for a
 * group that does not exist yet), a second TERM after TERM_REPEAT_MS, KILL
 * when the grace period runs out. The executor supplies the three primitives
 * (direct syscalls locally, agent requests over SSH), so the escalation and
 * its timing live in one place. Also the end records both executors give a
 * wrapper that could not write its own.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { statusToOutcome, type EndRecord } from './run-files.js';
import { CLAIM_FAILED_STATUS } from './wrapper.js';

/** When the second TERM goes out: a POSIX shell cannot block signals, so a TERM that reaches the
 * wrapper's freshly forked subshell before it has dropped the wrapper's trap is swallowed, and the
 * command then starts anyway (seen on a loaded machine). */
export const TERM_REPEAT_MS = 250;

export type KillSignal = 'TERM' | 'KILL';

export interface GroupControl {
  /** Signal the whole group; false if there is no such group. */
  signal(sig: KillSignal): boolean | Promise<boolean>;
  /** Is the group gone (no live member), or the job's end known? Then the kill is over. */
  gone(): boolean | Promise<boolean>;
  /** With no group yet: may it still appear (a job reported just before its `setsid`)? */
  mayAppear(): boolean;
  /** Told of each signal delivered, before anything else happens. */
  sent(sig: KillSignal): void;
  /** Whether the second TERM is still wanted (default: yes). */
  repeatTerm?(): boolean;
}

/** TERM, a second TERM, then KILL after `graceMs`, stopping as soon as the group is gone. */
export async function killGroup(g: GroupControl, graceMs: number): Promise<void> {
  const start = performance.now();
  const deadline = start + graceMs;
  while (!(await g.signal('TERM'))) {
    if (!g.mayAppear() || performance.now() > deadline) return;
    await delay(2);
  }
  g.sent('TERM');
  let repeated = false;
  for (let wait = 5; performance.now() < deadline; wait = Math.min(wait * 2, 100)) {
    await delay(Math.min(wait, Math.max(1, deadline - performance.now())));
    if (await g.gone()) return;
    if (!repeated && performance.now() - start >= TERM_REPEAT_MS && performance.now() < deadline) {
      repeated = true;
      if (g.repeatTerm?.() ?? true) await g.signal('TERM');
    }
  }
  if (await g.signal('KILL')) g.sent('KILL');
}

export const LOST: EndRecord = { outcome: { type: 'lost' } };
const BLOCKED: EndRecord = { outcome: { type: 'lost' }, error: 'launch blocked: claim file already existed' };

/** A wrapper's notified exit status as an end (125: its launch was blocked by a claim). */
export function notifiedEnd(status: number): EndRecord {
  return status === CLAIM_FAILED_STATUS ? BLOCKED : { outcome: statusToOutcome(status) };
}

/** A wrapper that died without a status line died of the signal this life sent it, if any. */
export function silentEnd(signalSent: KillSignal | null): EndRecord {
  return signalSent ? { outcome: { type: 'signal', signal: signalSent } } : LOST;
}
