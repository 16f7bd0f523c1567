/**
 * Everything the master's decisions read and change, in memory: the jobs
 * and queue (state.ts), the user's settings and notes, the load parts
 * staged so far, and the allocator's last refusal of each queued job. The
 * daemon's context holds one of these; nothing in it does I/O.
 */
import type { Settings } from '../protocol/settings.js';
import type { MasterState } from './state.js';
import type { Listings } from './listings.js';
import type { Staging } from './staging.js';

/** Why a queued job did not start at its last request: the allocator's refusal, qpy-multiuser away, or this user refused by it. */
export type Refusal = 'no_room' | 'no_gpu_room' | 'no_node' | 'over_limits' | 'unreachable' | 'not_allowed';

export interface MasterCore {
  state: MasterState;
  /** The user this master runs jobs for (as the allocator knows them). */
  user: string;
  /** The user's settings (`qpy config`): sourceTheseFiles is applied at each launch. */
  settings: Settings;
  /** Each job's notes (`qpy notes`), kept in the store's meta table as `note:<id>`. */
  notes: Map<number, string>;
  /** Parts of big loads received so far (see staging.ts). */
  staging: Staging;
  /** `qpy check` listings being read a page at a time. */
  listings: Listings;
  /** Why queued jobs did not start at their last request (kept for `qpy why`; dropped when they start). */
  refusals: Map<number, Refusal>;
}
