/**
 * The Slurm pools on the user's page (issue 18): read from the allocator's
 * `status`, as `qpy status` reads them (the embedded allocator's pools, or
 * qpy-multiuser's), and watched while a page listens: once a second (every
 * 10 s while there are none) the section is rendered again, and sent to the
 * open pages as a `pools` event when it changed. Pilots change state in
 * Slurm without any job changing, so the jobs' events would not tell.
 */
import type { PoolView } from '../../protocol/cluster.js';
import { poolsSection } from '../../web/pool-section.js';
import type { MasterContext } from './context.js';

/** How often a watched page's pools are looked at. */
const POOLS_CHECK_MS = 1000;
/** While there are no pools, only every this many checks asks (pools come with a new nodes file only). */
const CHECKS_WITHOUT_POOLS = 10;

/** The longest a page waits for the allocator's status (qpy-multiuser slow to answer): then it shows no pools. */
const STATUS_WAIT_MS = 2000;

/** The allocator's pools now (none: it has none); null when it cannot say (qpy-multiuser away or slow). */
export async function allocatorPools(ctx: MasterContext): Promise<PoolView[] | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((ok) => {
    timer = setTimeout(() => ok(null), STATUS_WAIT_MS);
  });
  try {
    const reply = await Promise.race([ctx.allocator.request({ type: 'status', user: ctx.user }), late]);
    return reply?.type === 'status' ? (reply.status.pools ?? []) : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

export interface PoolsWatch {
  /** Pages listen: watch (if not yet). */
  start(): void;
  /** No page listens: stop. */
  stop(): void;
}

/** Watch the pools, calling `send` with the section's new content each time it changes. */
export function watchPools(ctxOf: () => MasterContext, send: (section: string) => void): PoolsWatch {
  let timer: NodeJS.Timeout | null = null;
  let last: string | null = null;
  let hadPools = true;
  let skipped = 0;
  let busy = false;
  async function check(): Promise<void> {
    if (busy || (!hadPools && ++skipped < CHECKS_WITHOUT_POOLS)) return;
    busy = true;
    skipped = 0;
    try {
      const ctx = ctxOf();
      const pools = await allocatorPools(ctx);
      if (pools === null) return; // the allocator cannot say now: the pages keep what they show
      hadPools = pools.length > 0;
      const section = poolsSection(pools, ctx.now(), 'user').text;
      // The first look is sent too: the pools may have changed since the pages were rendered.
      if (section !== last && timer !== null) {
        last = section;
        send(section);
      }
    } finally {
      busy = false;
    }
  }
  return {
    start() {
      if (timer !== null) return;
      last = null;
      hadPools = true;
      timer = setInterval(() => void check(), POOLS_CHECK_MS);
      timer.unref();
      void check();
    },
    stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
    },
  };
}
