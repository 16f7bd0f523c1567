/**
 * bench/complete: how long `qpy __complete` (what bash runs on TAB) takes to
 * answer with job IDs from a running master. Target: median under 150 ms.
 */
import { benchUser, conditions, percentile } from './lib.js';

console.log(`bench/complete — ${conditions()}`);
const u = benchUser();
try {
  await u.qpy(['ctrlQueue', 'pause']);
  for (let i = 0; i < 20; i++) await u.qpy(['sub', 'true']);
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    const r = await u.qpy(['__complete', '2', 'kill', '']);
    if (r.code !== 0) throw new Error(r.stderr);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(
    `qpy __complete 2 kill '' (20 jobs queued): p50 ${percentile(times, 50).toFixed(0)} ms, p99 ${percentile(times, 99).toFixed(0)} ms (n=30; target p50 < 150 ms)`,
  );
} finally {
  u.cleanup();
}
