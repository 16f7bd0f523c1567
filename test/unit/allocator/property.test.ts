/**
 * A seeded property test of the allocator core as qpy-multiuser runs it
 * (strict registrations): random sequences of grants, releases, honest and
 * hostile registrations, node reloads and probed capacity changes, drains,
 * outages, user additions and removals, rule changes and dead-master reaping
 * (property-steps.ts, on a run of property-run.ts).
 * After every step: the counters balance (auditCounters), no change added
 * load to a node beyond its capacity (auditCapacity against the loads before
 * the step), every grant stayed within its user's share rules and the
 * node's room, and status validates against the wire schema.
 *
 * fast-check is not a dependency: the seeded PRNG of test/helpers/prng.ts drives it. A
 * failure names its seed and step; QPY_PROPERTY_SEED=N replays one seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditCapacity, auditCounters, nodeLoads } from '../../../src/allocator/accounting.js';
import { buildStatus } from '../../../src/allocator/status.js';
import { clusterStatusSchema } from '../../../src/protocol/cluster.js';
import { step } from './property-steps.js';
import { Run } from './property-run.js';

const SEEDS = 200;
const STEPS = 300;

function checkAfter(r: Run, before: ReturnType<typeof nodeLoads>): void {
  const problems = [...auditCounters(r.s), ...auditCapacity(r.s, before)];
  assert.deepEqual(problems, []);
  const status = JSON.parse(JSON.stringify(buildStatus(r.s)));
  clusterStatusSchema(status, '$status');
}

test(`property: ${SEEDS} seeds × ${STEPS} random steps keep the books, the capacity invariant, the share rules and a valid status`, () => {
  const only = process.env['QPY_PROPERTY_SEED'];
  const seeds = only !== undefined ? [Number(only)] : Array.from({ length: SEEDS }, (_, i) => i + 1);
  for (const seed of seeds) {
    const r = new Run(seed);
    const trail: string[] = [];
    for (let i = 1; i <= STEPS; i++) {
      const before = nodeLoads(r.s);
      try {
        trail.push(`  ${i}: ${step(r)}`);
        checkAfter(r, before);
      } catch (err) {
        const last = trail.slice(-5).join('\n');
        throw new Error(`seed ${seed}, step ${i} failed (replay: QPY_PROPERTY_SEED=${seed}):\n${last}\n${(err as Error).message}`, {
          cause: err,
        });
      }
    }
  }
});
