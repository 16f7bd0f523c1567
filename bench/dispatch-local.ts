/**
 * bench/dispatch-local: how many `/bin/true` jobs per second the embedded
 * default starts and completes (the local node declared with 32 cores, so the
 * machinery rather than the core count is measured), and the delay between a
 * job's exit and `check` showing it ended.
 */
import { benchUser, conditions } from './lib.js';
import { measureDispatch } from './dispatch-measure.js';

console.log(`bench/dispatch-local — ${conditions()}`);
console.log(
  `conditions: embedded default, personal nodes file "localhost cores=32 memory=64"; jobs submitted over one protocol connection`,
);
const u = benchUser('localhost cores=32 memory=64\n');
try {
  await measureDispatch(u, 'local dispatch');
} finally {
  u.cleanup();
}
