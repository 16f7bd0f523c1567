/**
 * A seeded random sequence through a Slurm pool's pure core (src/pool):
 * ticks of planTick against a simulated Slurm (pilots submitted, PENDING,
 * then RUNNING on a host, then gone at their limit or by a person's
 * scancel), sbatch calls that return later or fail, squeue listings taken
 * at one moment and applied later, agents connecting (reach=agent), jobs
 * starting and ending on pilot nodes, and the queue growing and emptying.
 * After every step the pool's invariants are checked. A failure prints its
 * seed: QPY_FUZZ_SEED=<seed> replays it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyListing, newPilot, pilotConnected } from '../../../src/pool/pilots.js';
import { goneEffects, planTick, type PoolEffect } from '../../../src/pool/plan.js';
import type { PilotRow } from '../../../src/pool/slurm-cli.js';
import { Rng, seedFrom } from '../../helpers/prng.js';
import { poolRun } from './fixtures.js';

interface SlurmJob {
  state: 'PENDING' | 'RUNNING';
  host: string | null;
  endsAt: number;
}

function run(seed: number, steps: number): Map<string, number> {
  const rng = new Rng(seed);
  const where = (step: number, action: string) => `seed ${seed}, step ${step} (${action})`;
  const pool = poolRun({
    maxNodes: rng.int(1, 4),
    cores: rng.int(1, 4),
    idleMin: rng.pick([0, 0.5, 2]),
    timeLimitS: rng.pick([600, 3600]),
    reach: rng.pick(['ssh', 'agent'] as const),
  });
  const { config } = pool;
  const seen = new Map<string, number>();
  const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
  let now = 0;
  let queued = 0;
  let nextJob = 100;
  let sbatchCalls = 0;
  const slurm = new Map<string, SlurmJob>();
  /** Joined pilot nodes the allocator has (not left): node → jobs on it. */
  const nodes = new Map<string, { jobId: string; slots: number }>();
  const everJoined = new Set<string>();
  const endDecided = new Set<string>();
  const cancelled = new Set<string>();
  let listing: { rows: PilotRow[]; at: number } | null = null;

  const use = (node: string) => {
    const n = nodes.get(node);
    return n === undefined ? null : { slots: n.slots, freeCores: config.cores - n.slots };
  };
  const joinedAt = new Map<string, number>();
  const apply = (effects: readonly PoolEffect[], at: string, step: number): void => {
    const leaving = new Set(effects.filter((e) => e.type === 'leave').map((e) => e.jobId));
    for (const e of effects) {
      count(e.type);
      switch (e.type) {
        case 'submit':
          assert.ok(queued > 0, `${at}: a submit while no job waits`);
          assert.ok(e.count > 0, `${at}: a submit of ${e.count}`);
          assert.ok((pool.submitting + e.count - 1) * config.cores < queued, `${at}: more sbatch calls under way than ${queued} jobs need`);
          pool.submitting += e.count;
          sbatchCalls += e.count;
          break;
        case 'cancel':
          for (const id of e.jobIds) {
            assert.ok(!cancelled.has(id), `${at}: pilot ${id} cancelled twice`);
            const p = pool.pilots.get(id);
            assert.ok(p !== undefined && p.ending !== null, `${at}: pilot ${id} cancelled but not marked ending`);
            if (p.node !== null) assert.ok(leaving.has(id), `${at}: joined pilot ${id} cancelled (${p.ending}) without leaving`);
            assert.ok(p.node === null || p.ending !== 'surplus', `${at}: joined pilot ${id} cancelled as surplus`);
            cancelled.add(id);
            if (rng.chance(0.8)) slurm.delete(id); // else Slurm takes a while
          }
          break;
        case 'join':
          assert.ok(!everJoined.has(e.jobId), `${at}: pilot ${e.jobId} joined twice`);
          assert.ok(!endDecided.has(e.jobId) && !cancelled.has(e.jobId), `${at}: pilot ${e.jobId} joined after qpy ended it`);
          assert.equal(e.node, `p-${e.jobId}`);
          assert.equal(e.cores, config.cores);
          everJoined.add(e.jobId);
          joinedAt.set(e.jobId, step);
          nodes.set(e.node, { jobId: e.jobId, slots: 0 });
          break;
        case 'leave': {
          const n = nodes.get(e.node);
          assert.ok(n !== undefined && n.jobId === e.jobId, `${at}: ${e.node} leaves but is not joined`);
          if (!e.failed) assert.equal(n.slots, 0, `${at}: ${e.node} ended by qpy under ${n.slots} jobs`);
          if (e.why.startsWith('idle')) assert.ok(joinedAt.get(e.jobId)! < step, `${at}: ${e.node} ended as idle as it joined`);
          count(e.failed ? 'leave failed' : 'leave ended');
          nodes.delete(e.node);
          break;
        }
        case 'jobTime':
          assert.ok(nodes.has(e.node), `${at}: time bound for ${e.node}, not joined`);
          assert.ok(e.maxS >= 0 && Number.isSafeInteger(e.maxS), `${at}: maxS ${e.maxS}`);
          if (!e.untimed) count('near end');
          break;
      }
    }
  };

  const actions: [string, number][] = [
    ['tick', 10],
    ['time', 4],
    ['queue', 3],
    ['sbatch returns', 4],
    ['listing starts', 3],
    ['listing ends', 3],
    ['slurm starts', 4],
    ['scancel by a person', 1],
    ['connect', 3],
    ['jobs', 4],
  ];
  for (let step = 0; step < steps; step++) {
    const action = rng.weighted(actions);
    const at = where(step, action);
    switch (action) {
      case 'tick':
        apply(planTick(pool, use, queued, now), at, step);
        break;
      case 'time': {
        now += rng.pick([0, 1, 1000, 20_000, 60_000, 5 * 60_000]);
        for (const [id, j] of slurm) if (j.state === 'RUNNING' && j.endsAt <= now) slurm.delete(id); // its time limit
        break;
      }
      case 'queue':
        queued = rng.pick([0, 0, 1, 3, 12]);
        break;
      case 'sbatch returns':
        if (pool.submitting === 0) break;
        pool.submitting--;
        if (rng.chance(0.15)) {
          pool.retryAt = now + 10_000;
          count('sbatch failed');
        } else {
          const id = String(nextJob++);
          slurm.set(id, { state: 'PENDING', host: null, endsAt: Infinity });
          pool.pilots.set(id, newPilot(id, now));
        }
        break;
      case 'listing starts':
        if (listing !== null) break;
        listing = {
          at: now,
          rows: [...slurm].map(([jobId, j]) => ({
            jobId,
            state: j.state,
            reason: j.state === 'PENDING' ? rng.pick(['Resources', 'Priority']) : null,
            node: j.host,
            timeLeftS: j.state === 'RUNNING' ? Math.max(0, Math.floor((j.endsAt - now) / 1000)) : config.timeLimitS,
          })),
        };
        break;
      case 'listing ends': {
        if (listing === null) break;
        const gone = applyListing(pool.pilots, listing.rows, listing.at);
        for (const p of gone) assert.ok(!slurm.has(p.jobId) || p.ending !== null, `${at}: pilot ${p.jobId} still runs but is gone`);
        apply(goneEffects(gone), at, step);
        if (gone.length > 0) count('gone');
        listing = null;
        break;
      }
      case 'slurm starts': {
        const waiting = [...slurm].filter(([, j]) => j.state === 'PENDING');
        if (waiting.length === 0) break;
        const [, j] = rng.pick(waiting);
        j.state = 'RUNNING';
        j.host = `c${rng.int(1, 9)}`;
        j.endsAt = now + config.timeLimitS * 1000;
        break;
      }
      case 'scancel by a person': {
        if (slurm.size === 0) break;
        slurm.delete(rng.pick([...slurm.keys()]));
        count('person');
        break;
      }
      case 'connect': {
        const up = [...slurm].filter(([id, j]) => j.state === 'RUNNING' && pool.pilots.has(id));
        if (config.reach !== 'agent' || up.length === 0) break;
        const [id, j] = rng.pick(up);
        pilotConnected(pool.pilots, id, j.host!);
        break;
      }
      case 'jobs': {
        if (nodes.size === 0) break;
        const n = rng.pick([...nodes.values()]);
        n.slots = rng.int(0, config.cores);
        break;
      }
    }
    // Invariants after every step.
    const pilots = [...pool.pilots.values()];
    for (const p of pilots) if (p.ending !== null) endDecided.add(p.jobId);
    const live = pilots.filter((p) => p.ending === null).length;
    assert.ok(live + pool.submitting <= config.maxNodes, `${at}: ${live} live + ${pool.submitting} submitting > ${config.maxNodes}`);
    const joinedNow = new Set(pilots.filter((p) => p.node !== null && p.ending === null).map((p) => p.node!));
    assert.deepEqual(new Set(nodes.keys()), joinedNow, `${at}: the nodes joined and not left are the joined live pilots`);
    for (const p of pilots) if (cancelled.has(p.jobId)) assert.ok(p.ending !== null, `${at}: cancelled pilot ${p.jobId} is live again`);
  }
  seen.set('sbatch', sbatchCalls);
  return seen;
}

test('random sequences keep a Slurm pool within its bounds', () => {
  const fixed = process.env.QPY_FUZZ_SEED;
  const seeds = fixed ? [seedFrom(fixed)] : [1, 2, 3, 4, 5, 6, 7, 8, 42, seedFrom(undefined)];
  const seen = new Map<string, number>();
  for (const seed of seeds) {
    for (const [k, n] of run(seed, 4000)) seen.set(k, (seen.get(k) ?? 0) + n); // each assertion names its seed
  }
  // The sequences reach every corner of the pool's life.
  if (!fixed)
    for (const k of ['submit', 'sbatch failed', 'join', 'jobTime', 'near end', 'leave ended', 'leave failed', 'cancel', 'gone', 'person'])
      assert.ok((seen.get(k) ?? 0) > 0, `never: ${k}`);
});
