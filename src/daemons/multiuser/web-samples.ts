/**
 * The cluster page's utilisation series (issue 17): every interval
 * (QPY_WEB_SAMPLE_MS, 10 s by default) qpy-multiuser samples its cores (those
 * taking jobs, those busy outside qpy, each user's) into its store, and
 * every 30 samples their mean as a coarse point (5 min by default). Fine
 * points are kept a day, coarse ones 8 days; older ones are pruned at each
 * coarse point. The series lives in memory as well, so a page reads no
 * file: it is loaded from the store once, at start.
 */
import type { AllocatorState } from '../../allocator/state.js';
import type { AllocatorStore } from '../../store/allocator-store.js';
import type { StoredSample } from '../../store/allocator-samples.js';
import type { Log } from '../shared/log.js';

/** Fine samples per coarse point. */
export const COARSE_EVERY = 30;
const DAY_MS = 86_400_000;
/** How long each level is kept. */
export const KEEP_FINE_MS = DAY_MS;
export const KEEP_COARSE_MS = 8 * DAY_MS;

export interface SampleSeries {
  /** The last day's fine samples, oldest first. */
  readonly fine: readonly StoredSample[];
  /** The last 8 days' coarse points, oldest first. */
  readonly coarse: readonly StoredSample[];
  close(): void;
}

/** What the state holds now, as one sample. */
export function sampleOf(state: AllocatorState, at: number): StoredSample {
  const users: Record<string, number> = {};
  for (const u of state.users) if (u.usedCores > 0) users[u.name] = u.usedCores;
  return { at, total: state.totalCores, outsiders: state.nodes.reduce((s, n) => s + n.outsiders, 0), users };
}

/** The mean of some samples, dated at the last. */
export function meanSample(xs: readonly StoredSample[]): StoredSample {
  const users: Record<string, number> = {};
  for (const s of xs) for (const [u, c] of Object.entries(s.users)) users[u] = (users[u] ?? 0) + c / xs.length;
  return {
    at: xs.at(-1)!.at,
    total: Math.round(xs.reduce((a, s) => a + s.total, 0) / xs.length),
    outsiders: xs.reduce((a, s) => a + s.outsiders, 0) / xs.length,
    users,
  };
}

/** Start sampling every `intervalMs` (0: never; the series then stays as stored); `onSample` runs after each. */
export function startSampling(opts: {
  state: AllocatorState;
  store: AllocatorStore;
  intervalMs: number;
  now: () => number;
  log: Log;
  onSample: () => void;
}): SampleSeries {
  const { state, store, now } = opts;
  const t0 = now();
  const fine: StoredSample[] = store.loadSamples(0, t0 - KEEP_FINE_MS);
  const coarse: StoredSample[] = store.loadSamples(1, t0 - KEEP_COARSE_MS);
  let pending: StoredSample[] = [];
  const drop = (xs: StoredSample[], before: number) => {
    let i = 0;
    while (i < xs.length && xs[i]!.at < before) i++;
    if (i > 0) xs.splice(0, i);
  };
  const tick = () => {
    const at = now();
    const s = sampleOf(state, at);
    fine.push(s);
    store.putSample(0, s);
    pending.push(s);
    if (pending.length >= COARSE_EVERY) {
      const c = meanSample(pending);
      pending = [];
      coarse.push(c);
      store.putSample(1, c);
      drop(fine, at - KEEP_FINE_MS);
      drop(coarse, at - KEEP_COARSE_MS);
      store.pruneSamples(0, at - KEEP_FINE_MS);
      store.pruneSamples(1, at - KEEP_COARSE_MS);
    }
    store.commit().catch((err: Error) => opts.log(`samples: ${err.message}`));
    opts.onSample();
  };
  const timer = opts.intervalMs > 0 ? setInterval(tick, opts.intervalMs) : null;
  timer?.unref();
  return {
    fine,
    coarse,
    close: () => {
      if (timer !== null) clearInterval(timer);
    },
  };
}
