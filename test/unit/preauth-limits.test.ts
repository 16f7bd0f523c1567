/**
 * The pre-auth decisions as pure functions: caps from the open-file limit,
 * admission of a new connection, the delay and logging of failed handshakes,
 * and the report of a storm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  admitConnection,
  capsForFileLimit,
  FAILURE_WINDOW_MS,
  FIRST_DELAY_MS,
  FREE_FAILURES,
  MAX_DELAY_MS,
  onCapped,
  onFailure,
  parseOpenFileLimit,
  reportLine,
  takeReport,
  type Failures,
} from '../../src/transport/preauth-limits.js';

test('caps: 64 per peer and 256 in all, fewer where few files may be open', () => {
  assert.deepEqual(capsForFileLimit(null), { perPeer: 64, total: 256 });
  assert.deepEqual(capsForFileLimit(Infinity), { perPeer: 64, total: 256 });
  assert.deepEqual(capsForFileLimit(1024), { perPeer: 64, total: 256 });
  assert.deepEqual(capsForFileLimit(256), { perPeer: 16, total: 64 });
  assert.deepEqual(capsForFileLimit(8), { perPeer: 1, total: 4 });
  const limits =
    'Limit                     Soft Limit           Hard Limit           Units     \n' +
    'Max open files            256                  4096                 files     \n';
  assert.equal(parseOpenFileLimit(limits), 256);
  assert.equal(parseOpenFileLimit(limits.replace('256 ', 'unlimited ')), Infinity);
  assert.equal(parseOpenFileLimit('nothing here'), null);
});

test('admission: per peer, then the total; a loopback peer is identified once many wait; the Unix socket pushes out its oldest instead', () => {
  const caps = { perPeer: 2, total: 4 };
  const at = (total: number, ofPeer: number | null, ofAddress = 0, shared = false) =>
    admitConnection({ total, ofPeer, ofAddress, shared }, caps);
  assert.equal(at(0, 0), 'accept');
  assert.equal(at(3, 1), 'accept');
  assert.equal(at(3, 2), 'refuse');
  // All taken: in place of the oldest silent one.
  assert.equal(at(4, 0), 'evict-silent');
  assert.equal(at(4, null, 0), 'evict-silent');
  // A loopback peer whose uid is not known yet: let in unread while few loopback connections wait, else read its uid first.
  assert.equal(at(1, null, 1), 'accept');
  assert.equal(at(2, null, 2), 'identify');
  assert.equal(at(2, 2, 0, true), 'evict-unix');
  assert.equal(at(1, 1, 0, true), 'accept');
});

test('failed handshakes: the first few at once and logged, then delays doubling to a cap, queued behind each other', () => {
  let rec: Failures | undefined;
  const t0 = 1_000_000;
  const seen: { delayMs: number; logIt: boolean }[] = [];
  for (let i = 0; i < FREE_FAILURES + 6; i++) {
    const r = onFailure(rec, t0);
    rec = r.next;
    seen.push({ delayMs: r.delayMs, logIt: r.logIt });
  }
  assert.deepEqual(seen.slice(0, FREE_FAILURES), new Array(FREE_FAILURES).fill({ delayMs: 0, logIt: true }));
  // All at the same instant (parallel attempts): each waits behind the one before.
  const steps = [FIRST_DELAY_MS, 2 * FIRST_DELAY_MS, 4 * FIRST_DELAY_MS, 8 * FIRST_DELAY_MS, MAX_DELAY_MS, MAX_DELAY_MS].map((d) =>
    Math.min(d, MAX_DELAY_MS),
  );
  let sum = 0;
  assert.deepEqual(
    seen.slice(FREE_FAILURES),
    steps.map((d) => ({ delayMs: (sum += d), logIt: false })),
  );
  // One at a time, long after the queue drained: the step alone.
  const later = onFailure(rec, t0 + 60_000 - 1);
  assert.equal(later.delayMs, MAX_DELAY_MS);
  assert.equal(later.logIt, false);
  // A new window starts afresh.
  const fresh = onFailure(later.next, t0 + FAILURE_WINDOW_MS + 1);
  assert.deepEqual({ delayMs: fresh.delayMs, logIt: fresh.logIt }, { delayMs: 0, logIt: true });
  assert.equal(fresh.next.inWindow, 1);
});

test('a storm is reported once per period with counts; quiet peers are forgotten', () => {
  let rec: Failures | undefined;
  const t0 = 5_000_000;
  for (let i = 0; i < 1000; i++) rec = onFailure(rec, t0 + i).next;
  let records = new Map([['uid:1005', rec!]]);
  // A peer whose few failures were all logged one by one is not reported again.
  records.set('addr:10.0.0.7', onFailure(undefined, t0).next);
  const first = takeReport(records, t0 + 60_000);
  assert.deepEqual(first.reports, [{ peer: 'uid:1005', refused: 1000, closed: 0 }]);
  assert.equal(
    reportLine(first.reports[0]!, 'uid 1005 (mallory)', 60_000),
    'refused 1000 handshakes from uid 1005 (mallory) in the last minute',
  );
  // Still queued: kept, with counters restarted; the quiet one dropped once its window is over.
  assert.ok(first.keep.has('uid:1005'));
  assert.equal(first.keep.get('uid:1005')!.sinceReport, 0);
  records = first.keep;
  assert.deepEqual(takeReport(records, t0 + 61_000).reports, []);
  // Connections closed by the caps: the first announced at once, the rest counted.
  let capped = onCapped(undefined, t0);
  assert.equal(capped.announce, true);
  for (let i = 0; i < 235; i++) {
    capped = onCapped(capped.next, t0);
    assert.equal(capped.announce, false);
  }
  const caps = takeReport(new Map([['addr:10.0.0.9', capped.next]]), t0 + 1000);
  assert.deepEqual(caps.reports, [{ peer: 'addr:10.0.0.9', refused: 0, closed: 236 }]);
  assert.equal(
    reportLine(caps.reports[0]!, '10.0.0.9', 1000),
    'closed 236 connections at once (too many unauthenticated) from 10.0.0.9 in the last 1 s',
  );
});
