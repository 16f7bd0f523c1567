/**
 * What a daemon allows a peer that has not authenticated yet, as pure
 * decisions over counters and the time passed in (preauth-gate.ts carries
 * them out on real sockets).
 *
 * - Bytes: before authentication a client may send one auth frame of at most
 *   MAX_AUTH_FRAME_BYTES, plus frame headers and a ping or close: at most
 *   MAX_PREAUTH_BYTES in all, counted as they arrive, so nobody can make a
 *   daemon buffer a big frame before proving a key.
 * - Connections: at most `perPeer` unauthenticated ones per peer and `total`
 *   in all (capsForFileLimit: 64 and 256, fewer where the open-file limit is
 *   low). Past the cap of its peer a new connection is closed at once; past
 *   the total it takes the place of the oldest one that has sent nothing yet
 *   (a flood of silent sockets, even from many peers, cannot keep a client
 *   out: its request arrives within a round trip). A peer is its uid for a
 *   loopback address (read only once as many loopback connections wait as one
 *   peer may hold), its address otherwise. The Unix socket cannot tell its
 *   peers apart (Node reads no SO_PEERCRED), so there a new connection pushes
 *   out the oldest waiting one instead: a crowd of silent connections cannot
 *   lock out the masters that use it, whose handshake takes milliseconds.
 * - Failed handshakes: the first FREE_FAILURES of a peer in a window of
 *   FAILURE_WINDOW_MS are refused at once and logged one by one; each later
 *   refusal waits in a queue behind the peer's previous one, by a delay that
 *   doubles from FIRST_DELAY_MS up to MAX_DELAY_MS. The key is still checked
 *   at once, so a right key is never delayed by someone else's wrong ones on
 *   a shared peer (the Unix socket, a uid or address shared with others).
 *   A waiting connection still counts against the caps, and is closed at the
 *   handshake deadline at the latest, so one peer gets at most
 *   perPeer / deadline attempts a second. Refusals beyond the first few are
 *   logged as counts, once per report period (REPORT_EVERY_MS).
 */

/** The largest auth frame (the first frame a client sends). */
export const MAX_AUTH_FRAME_BYTES = 4096;
/** All the bytes a client may send before it is authenticated: the auth frame, its header (≤ 14 bytes), and room for a ping or close frame. */
export const MAX_PREAUTH_BYTES = MAX_AUTH_FRAME_BYTES + 256;
/** Unauthenticated connections at most, per peer and in all, when the open-file limit allows. */
export const MAX_PREAUTH_PER_PEER = 64;
export const MAX_PREAUTH_TOTAL = 256;
/** Failed handshakes per peer and window refused without delay (and logged one by one). */
export const FREE_FAILURES = 5;
export const FAILURE_WINDOW_MS = 60_000;
/** The delay of the first refusal past FREE_FAILURES; it doubles with each one, up to MAX_DELAY_MS. */
export const FIRST_DELAY_MS = 250;
export const MAX_DELAY_MS = 4000;
/** Peers whose failures are counted each by itself; past this many in a window, the rest share one count (memory stays bounded). */
export const MAX_PEERS_REMEMBERED = 4096;
/** How often the counts of refusals not logged one by one are logged. */
export const REPORT_EVERY_MS = 60_000;

export interface PreauthCaps {
  perPeer: number;
  total: number;
}

/**
 * The caps for a process that may hold `openFiles` descriptors (null:
 * unknown): at most a quarter of them for unauthenticated connections, and
 * a quarter of that per peer, so that sockets of authenticated peers, the
 * store and the log always find a descriptor.
 */
export function capsForFileLimit(openFiles: number | null): PreauthCaps {
  const total =
    openFiles === null || !Number.isFinite(openFiles)
      ? MAX_PREAUTH_TOTAL
      : Math.max(4, Math.min(MAX_PREAUTH_TOTAL, Math.floor(openFiles / 4)));
  return { total, perPeer: Math.max(1, Math.min(MAX_PREAUTH_PER_PEER, Math.floor(total / 4))) };
}

/** The soft `Max open files` limit from the text of /proc/self/limits, or null. */
export function parseOpenFileLimit(limits: string): number | null {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
  if (!m) return null;
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/**
 * What to do with a new connection, given how many unauthenticated ones are
 * open in all, from its peer, and from its address.
 * - 'evict-silent': all are taken: it takes the place of the oldest
 *   connection that has not even sent its HTTP request yet (a client sends
 *   that in its first packet, so the oldest silent one is a squatter), or is
 *   closed if there is none.
 * - 'identify': `ofPeer` is null for a loopback peer whose uid is not read
 *   yet. While fewer than `perPeer` loopback connections wait, no uid can be
 *   over its cap and it is let in unread; past that its uid is read first,
 *   then the question is asked again with `ofPeer`.
 * - 'evict-unix': `shared`: its peer is the Unix socket, whose clients
 *   cannot be told apart; at the cap the oldest waiting one gives way.
 */
export function admitConnection(
  open: { total: number; ofPeer: number | null; ofAddress: number; shared: boolean },
  caps: PreauthCaps,
): 'accept' | 'refuse' | 'identify' | 'evict-unix' | 'evict-silent' {
  if (open.shared && open.ofPeer !== null && open.ofPeer >= caps.perPeer) return 'evict-unix';
  if (open.total >= caps.total) return 'evict-silent';
  if (open.ofPeer === null) return open.ofAddress < caps.perPeer ? 'accept' : 'identify';
  return open.ofPeer >= caps.perPeer ? 'refuse' : 'accept';
}

/** The failed handshakes of one peer. */
export interface Failures {
  /** When the current window began, and the failures in it. */
  windowStart: number;
  inWindow: number;
  /** When the peer's latest delayed refusal is due: the next one queues behind it. */
  refuseAt: number;
  /** Failures since the last report, and how many of those were logged one by one. */
  sinceReport: number;
  loggedSinceReport: number;
  /** Connections closed at once by the caps since the last report. */
  closedSinceReport: number;
}

const none = (now: number): Failures => ({
  windowStart: now,
  inWindow: 0,
  refuseAt: now,
  sinceReport: 0,
  loggedSinceReport: 0,
  closedSinceReport: 0,
});

/**
 * A peer failed a handshake at `now`: its new record, how long to wait
 * before the refusal goes out, and whether to log this one by itself.
 */
export function onFailure(prev: Failures | undefined, now: number): { next: Failures; delayMs: number; logIt: boolean } {
  const base = prev ?? none(now);
  const fresh = now - base.windowStart >= FAILURE_WINDOW_MS;
  const inWindow = (fresh ? 0 : base.inWindow) + 1;
  const step = inWindow <= FREE_FAILURES ? 0 : Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(20, inWindow - FREE_FAILURES - 1));
  const refuseAt = Math.max(now, fresh ? now : base.refuseAt) + step;
  const logIt = inWindow <= FREE_FAILURES;
  return {
    next: {
      ...base,
      windowStart: fresh ? now : base.windowStart,
      inWindow,
      refuseAt,
      sinceReport: base.sinceReport + 1,
      loggedSinceReport: base.loggedSinceReport + (logIt ? 1 : 0),
    },
    delayMs: refuseAt - now,
    logIt,
  };
}

/** A connection of this peer was closed at once by the caps; `announce`: the first since the last report, to be logged now. */
export function onCapped(prev: Failures | undefined, now: number): { next: Failures; announce: boolean } {
  const base = prev ?? none(now);
  return { next: { ...base, closedSinceReport: base.closedSinceReport + 1 }, announce: base.closedSinceReport === 0 };
}

/** What a report says of one peer: refusals not all logged one by one, connections closed by the caps. */
export interface PeerReport {
  peer: string;
  refused: number;
  closed: number;
}

/**
 * The report due at `now` over every peer's record (keyed by peer), and the
 * records to keep: counters restarted, peers with nothing left to remember
 * dropped.
 */
export function takeReport(records: ReadonlyMap<string, Failures>, now: number): { reports: PeerReport[]; keep: Map<string, Failures> } {
  const reports: PeerReport[] = [];
  const keep = new Map<string, Failures>();
  for (const [peer, r] of records) {
    const unlogged = r.sinceReport > r.loggedSinceReport;
    const closed = r.closedSinceReport > 1 ? r.closedSinceReport : 0; // a single one was announced already
    if (unlogged || closed > 0) reports.push({ peer, refused: unlogged ? r.sinceReport : 0, closed });
    const live = now - r.windowStart < FAILURE_WINDOW_MS || r.refuseAt > now;
    if (live) keep.set(peer, { ...r, sinceReport: 0, loggedSinceReport: 0, closedSinceReport: 0 });
  }
  return { reports, keep };
}

/** The log line of one report: `refused 1000 handshakes from uid 1005 (mallory) in the last minute`. */
export function reportLine(r: PeerReport, label: string, periodMs: number): string {
  const period =
    periodMs === 60_000 ? 'the last minute' : periodMs % 1000 === 0 ? `the last ${periodMs / 1000} s` : `the last ${periodMs} ms`;
  const parts: string[] = [];
  if (r.refused > 0) parts.push(`refused ${r.refused} handshake${r.refused === 1 ? '' : 's'}`);
  if (r.closed > 0) parts.push(`closed ${r.closed} connection${r.closed === 1 ? '' : 's'} at once (too many unauthenticated)`);
  return `${parts.join(' and ')} from ${label} in ${period}`;
}
