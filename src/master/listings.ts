/**
 * `qpy check` listings read a page at a time: the IDs a check planned are
 * kept under a cursor, and each `checkMore` reads the next page's jobs as
 * they are then. A listing not read on for LISTING_TTL_MS is dropped, and so is
 * the oldest when too many are open (a CLI killed mid-listing leaves one).
 * Kept in the master's core state (core.ts).
 */
import { QpyError } from '../errors.js';

/** Jobs per page of a check reply (under a MB of JSON): `qpy check --all` of two million jobs stays near 120 MB, where pages of 10,000 took it to 220 MB. */
export const CHECK_PAGE = 2_000;
/** Long enough for a reader paging through `qpy check --all | less` at leisure. */
const LISTING_TTL_MS = 10 * 60_000;
const MAX_OPEN = 16;

export class Listings {
  private readonly open = new Map<number, { ids: number[]; at: number; touchedAt: number }>();
  /** Cursors start anywhere (the daemon draws `firstCursor`), so one left from a master that restarted does not read another listing. */
  constructor(private next = 1) {}

  /** Keep `ids` from `at` on; the cursor to read them with. */
  keep(ids: number[], at: number, now: number): number {
    this.expire(now);
    if (this.open.size >= MAX_OPEN) this.open.delete(this.open.keys().next().value!);
    const cursor = this.next++;
    this.open.set(cursor, { ids, at, touchedAt: now });
    return cursor;
  }

  /** The next page of IDs under `cursor`, and whether more follow (the listing is dropped after its last page). */
  page(cursor: number, now: number, size = CHECK_PAGE): { ids: number[]; more: boolean } {
    this.expire(now);
    const l = this.open.get(cursor);
    if (l === undefined)
      throw new QpyError(
        'NOT_FOUND',
        'this listing was dropped (it was not read on for 10 minutes, or the master restarted)',
        'run the check again',
      );
    const ids = l.ids.slice(l.at, l.at + size);
    l.at += ids.length;
    l.touchedAt = now;
    const more = l.at < l.ids.length;
    if (!more) this.open.delete(cursor);
    return { ids, more };
  }

  private expire(now: number): void {
    for (const [c, l] of this.open) if (now - l.touchedAt > LISTING_TTL_MS) this.open.delete(c);
  }
}
