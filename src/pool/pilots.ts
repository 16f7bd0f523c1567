/**
 * A Slurm pool's pilots as qpy keeps them (issue 18), and what a `squeue`
 * listing or a pilot's own connection changes in them. Pure: the records
 * and the news in, the records changed (in place) and what became of each
 * pilot out. The decisions of each tick (submit, join, drain, end) are in
 * plan.ts.
 */
import type { PilotRow } from './slurm-cli.js';

/** Slurm's states of a job that has not ended yet (squeue lists ended jobs only a moment, as COMPLETED, FAILED, …). */
const LIVE_STATES = new Set([
  'PENDING',
  'CONFIGURING',
  'RUNNING',
  'COMPLETING',
  'RESIZING',
  'SUSPENDED',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'RESV_DEL_HOLD',
  'SIGNALING',
  'STAGE_OUT',
  'STOPPED',
]);
/** States in which the pilot's batch script runs (it holds its node). */
const STARTED_STATES = new Set(['RUNNING', 'SIGNALING', 'STAGE_OUT']);

/** One pilot: a Slurm job holding one node for a pool. */
export interface Pilot {
  /** Slurm's job ID. */
  jobId: string;
  /** When qpy submitted it, or first saw it (ms). */
  since: number;
  /** Slurm's state at the last listing that showed it; null before any did. */
  slurmState: string | null;
  /** Why it is pending, as Slurm says (`Resources`, `Priority`, …); null when it gives none. */
  reason: string | null;
  /** The host Slurm gave it; null before it has one. */
  host: string | null;
  /** When its time limit runs out (ms), from squeue's time left; null while unknown (pending, or never listed running). */
  endsAt: number | null;
  /** reach=agent: its agent link is connected to qpy now. */
  connected: boolean;
  /** Its node in qpy's node list once it joined (`POOL-JOBID`), else null. */
  node: string | null;
  /** While joined and holding no job: since when (ms); null while it runs jobs or has not joined. */
  idleSince: number | null;
  /** qpy asked Slurm to end it (scancel), and why. */
  ending: 'idle' | 'time' | 'surplus' | null;
}

/** A pilot as qpy first knows it: just submitted, or found in a listing after a restart. */
export function newPilot(jobId: string, now: number): Pilot {
  return {
    jobId,
    since: now,
    slurmState: null,
    reason: null,
    host: null,
    endsAt: null,
    connected: false,
    node: null,
    idleSince: null,
    ending: null,
  };
}

/** Whether Slurm runs the pilot's script now (its node is held). */
export const started = (p: Pilot): boolean => p.slurmState !== null && STARTED_STATES.has(p.slurmState);

/**
 * Apply a listing of the pool's pilots taken at `listedAt` (the moment the
 * `squeue` started). Pilots it shows are updated, and unknown ones adopted
 * (qpy restarted while they were queued or running); a known pilot it does
 * not show, or shows ended, is gone, unless qpy learnt of it after the
 * listing began or at that very millisecond (the listing may have missed
 * it: the next one judges it). Returns the pilots that are gone (removed
 * from `pilots`).
 */
export function applyListing(pilots: Map<string, Pilot>, rows: readonly PilotRow[], listedAt: number): Pilot[] {
  const seen = new Set<string>();
  for (const row of rows) {
    if (!LIVE_STATES.has(row.state)) continue;
    seen.add(row.jobId);
    let p = pilots.get(row.jobId);
    if (p === undefined) {
      p = newPilot(row.jobId, listedAt);
      pilots.set(row.jobId, p);
    }
    p.slurmState = row.state;
    p.reason = row.state === 'PENDING' ? row.reason : null;
    if (row.node !== null && row.state !== 'PENDING') p.host = row.node;
    if (STARTED_STATES.has(row.state) && row.timeLeftS !== null) p.endsAt = listedAt + row.timeLeftS * 1000;
  }
  const gone: Pilot[] = [];
  for (const p of pilots.values()) {
    if (seen.has(p.jobId) || p.since >= listedAt) continue;
    gone.push(p);
  }
  for (const p of gone) pilots.delete(p.jobId);
  return gone;
}

/**
 * A pilot's agent said hello from `host` (reach=agent): it runs, whatever the
 * last listing said. Only a pilot qpy knows (submitted, or shown by a
 * listing of its pool's jobs) counts: Slurm vouches for each pilot, so a
 * hello with another job ID (a stale pilot file, a forged one) adds no node.
 * Returns the pilot, or null for an unknown one (the caller keeps the hello
 * until a listing shows that job).
 */
export function pilotConnected(pilots: Map<string, Pilot>, jobId: string, host: string): Pilot | null {
  const p = pilots.get(jobId);
  if (p === undefined) return null;
  p.connected = true;
  p.host = host;
  if (!started(p)) {
    p.slurmState = 'RUNNING';
    p.reason = null;
  }
  return p;
}

/**
 * A pilot (reach=ssh) left word that it started on Slurm's node `host` (its
 * file in the pool's directory): it runs, ahead of the next listing. False
 * if qpy does not know it (yet) or knew it started.
 */
export function pilotStarted(pilots: Map<string, Pilot>, jobId: string, host: string): boolean {
  const p = pilots.get(jobId);
  if (p === undefined || started(p) || p.ending !== null) return false;
  p.slurmState = 'RUNNING';
  p.reason = null;
  p.host = host;
  return true;
}
