/**
 * A seeded random sequence through the master's pure core: submissions,
 * dispatch passes against a simulated allocator (requests pipelined, a
 * kill or hold sometimes landing between a request and its answer),
 * launches confirmed or failed in every class, adoptions, ends, kills,
 * holds, retries, pauses, node failures and failed commits. After every
 * step the job state machine's invariants are checked. A failure prints
 * its seed: QPY_FUZZ_SEED=<seed> replays it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Effect } from '../../../src/master/effects.js';
import { PassPlan, passWanted, settleDependants } from '../../../src/master/dispatch-plan.js';
import { adoptAnswer, failNodeJobs, jobEnded, launched, launchFailed, requeueFirst } from '../../../src/master/job-events.js';
import { isFinal } from '../../../src/master/lifecycle.js';
import { onHold, onKill, onPause, onRequeue } from '../../../src/master/queue-requests.js';
import { acceptGroup, acceptSubmit } from '../../../src/master/submit-request.js';
import type { Job } from '../../../src/protocol/job.js';
import type { AllocatorToMaster } from '../../../src/protocol/master-allocator.js';
import { Rng, seedFrom } from '../../helpers/prng.js';
import { sel, spec } from './fixtures.js';
import { granted, makeCore, refused } from './outbox.js';

const NODES: Record<string, number> = { n1: 4, n2: 2 };

function run(seed: number, steps: number): Map<string, number> {
  const rng = new Rng(seed);
  const core = makeCore();
  const { state } = core;
  let now = 0;
  /** The allocator's books: job → [node, cores]. */
  const slots = new Map<number, [string, number]>();
  const atNextPass: number[] = [];
  const launching = new Set<number>(); // launch effect seen, no answer yet
  const live = new Set<number>(); // a process may run: launched, or adopted as running
  const toAdopt = new Set<number>();
  let reqId = 1;

  const free = (node: string) => NODES[node]! - [...slots.values()].filter(([n]) => n === node).reduce((s, [, c]) => s + c, 0);
  const allocate = (job: Job): AllocatorToMaster => {
    if (rng.chance(0.03)) return { type: 'error', id: 0, code: 'ALLOCATOR_UNREACHABLE', message: 'away' } as AllocatorToMaster;
    if (job.spec.cores > 4) return refused(job.id, 'no_node');
    const node = Object.keys(NODES).find((n) => free(n) >= job.spec.cores);
    if (node === undefined) return refused(job.id, 'no_room');
    slots.set(job.id, [node, job.spec.cores]);
    return granted(job.id, node);
  };
  const apply = (effects: readonly Effect[]): void => {
    for (const e of effects) {
      if (e.type === 'release') slots.delete(e.jobId);
      else if (e.type === 'releaseAtNextPass') atNextPass.push(e.jobId);
      else if (e.type === 'commitSoon') apply(e.afterwards);
      else if (e.type === 'launch') {
        assert.ok(!launching.has(e.job.id) && !live.has(e.job.id), `job ${e.job.id} launched while an earlier launch may run`);
        assert.ok(slots.has(e.job.id), `job ${e.job.id} launched without a slot`);
        launching.add(e.job.id);
      } else if (e.type === 'adopt') for (const j of e.jobs) toAdopt.add(j.id);
    }
  };
  const leftoverOn = (id: number) => (launching.has(id) || live.has(id) || toAdopt.has(id) ? 'n1' : null);
  const pick = <T>(items: Iterable<T>): T | undefined => {
    const a = [...items];
    return a.length === 0 ? undefined : rng.pick(a);
  };
  const tryIt = (f: () => void) => {
    try {
      f();
    } catch (err) {
      if (!(err instanceof Error && 'code' in err)) throw err; // a refusal (NOT_FOUND…) is an answer, not a bug
    }
  };
  const someRange = (): [number, number] => {
    const a = rng.int(1, Math.max(1, state.nextId - 1));
    return [a, a + rng.int(0, 3)];
  };

  const actions: [string, number][] = [
    ['submit', 5],
    ['array', 1],
    ['pass', 6],
    ['launchAnswer', 5],
    ['adopt', 1],
    ['end', 4],
    ['kill', 1],
    ['hold', 1],
    ['requeue', 1],
    ['pause', 0.5],
    ['nodeDown', 0.3],
  ];
  let before = new Map<number, string>();
  for (let step = 0; step < steps; step++) {
    now += rng.int(0, 5);
    const action = rng.weighted(actions);
    const exit = () => ({ type: 'exit' as const, code: rng.chance(0.6) ? 0 : 1 });
    switch (action) {
      case 'submit': {
        const after = state.nextId > 1 && rng.chance(0.2) ? { [rng.chance(0.5) ? 'after' : 'afterok']: [someRange()] } : {};
        const s = { ...spec({ cores: rng.int(1, 5), retries: rng.chance(0.3) ? rng.int(1, 2) : undefined }), ...after };
        const req = { type: 'submit' as const, id: reqId++, command: 'x', cwd: '/w', cores: s.cores, memGB: 1, attrs: null };
        apply(acceptSubmit(core, req, s, null, now).effects);
        break;
      }
      case 'array': {
        const count = rng.int(1, 6);
        const cap = rng.chance(0.5) ? rng.int(1, 3) : null;
        const req = {
          type: 'submitMany' as const,
          id: reqId++,
          template: { cwd: '/w', cores: 1, memGB: 1, attrs: null },
          kind: 'array' as const,
          commands: ['x'],
          indices: [1, count] as [number, number],
          cap,
          stage: null,
          last: true,
        };
        apply(acceptGroup(core, req, ['x'], spec({ cores: rng.int(1, 2) }), now).effects);
        break;
      }
      case 'pass': {
        for (const id of atNextPass.splice(0)) slots.delete(id);
        if (!passWanted(state, false)) break;
        const deps = settleDependants(state, now);
        apply(deps.effects);
        const plan = new PassPlan(state, deps.deps, core.refusals);
        const window = rng.int(1, 4);
        const inflight: [Job, AllocatorToMaster][] = [];
        const settle = () => {
          const [job, reply] = inflight.shift()!;
          if (rng.chance(0.1))
            tryIt(() => apply(onKill(core, { type: 'kill', id: 0, selector: sel({ ranges: [[job.id, job.id]] }) }, now).effects));
          if (rng.chance(0.05)) tryIt(() => apply(onHold(core, { type: 'hold', id: 0, ranges: [[job.id, job.id]], held: true }).effects));
          apply(plan.answer(job, reply, state.paused, now));
        };
        for (let job = plan.next(); job !== null; job = plan.next()) {
          inflight.push([job, allocate(job)]);
          if (inflight.length >= window) settle();
        }
        while (inflight.length > 0) settle();
        if (plan.granted.length > 0) apply(rng.chance(0.05) ? plan.commitFailed() : plan.launches());
        break;
      }
      case 'launchAnswer': {
        const id = pick(launching);
        if (id === undefined) break;
        launching.delete(id);
        const c = rng.weighted([
          ['ok', 7],
          ['not_reached', 1],
          ['link_lost', 1],
          ['error', 1],
        ] as const);
        if (c === 'ok') {
          const j = state.jobs.get(id);
          if (j?.state.type === 'running' && j.state.pid === null) live.add(id);
          apply(launched(state, id, 1000 + id));
        } else apply(launchFailed(state, id, c, c, now));
        break;
      }
      case 'adopt': {
        const id = pick(toAdopt);
        if (id === undefined) break;
        toAdopt.delete(id);
        const job = state.jobs.get(id)!;
        const found = rng.pick(['never_started', 'running', 'ended'] as const);
        if (found !== 'never_started' && job.state.type === 'running') live.add(id);
        const a = adoptAnswer(state, job, found, found === 'never_started' ? null : 1000 + id, now);
        apply(a.effects);
        if (a.requeued) apply(requeueFirst(state, [id]));
        break;
      }
      case 'end': {
        const id = pick(live);
        if (id === undefined) break;
        live.delete(id);
        apply(jobEnded(state, id, { outcome: exit() }, now));
        break;
      }
      case 'kill':
        tryIt(() => apply(onKill(core, { type: 'kill', id: 0, selector: sel({ ranges: [someRange()] }) }, now).effects));
        break;
      case 'hold':
        tryIt(() => apply(onHold(core, { type: 'hold', id: 0, ranges: [someRange()], held: rng.chance(0.5) }).effects));
        break;
      case 'requeue':
        tryIt(() =>
          apply(
            onRequeue(core, { type: 'requeue', id: 0, ranges: [someRange()], failed: false, any: rng.chance(0.3) }, now, leftoverOn)
              .effects,
          ),
        );
        break;
      case 'pause':
        apply(onPause(core, { type: 'pause', id: 0, paused: !state.paused }).effects);
        break;
      case 'nodeDown': {
        const { failed, effects } = failNodeJobs(state, rng.pick(Object.keys(NODES)), now);
        apply(effects);
        for (const id of failed) {
          slots.delete(id); // released once the node_failed state is durable
          launching.delete(id); // what is left of it is reclaimed when the node is back
          live.delete(id);
          toAdopt.delete(id);
        }
        break;
      }
    }
    // Invariants.
    const where = `seed ${seed}, step ${step} (${action})`;
    const statuses = new Map<number, string>();
    for (const j of state.jobs.values()) statuses.set(j.id, j.state.type);
    const queued = [...statuses].filter(([, s]) => s === 'queue').map(([id]) => id);
    assert.equal(new Set(state.queue).size, state.queue.length, `${where}: a job twice in the queue`);
    assert.deepEqual(
      [...state.queue].sort((a, b) => a - b),
      queued,
      `${where}: the queue is not the queued jobs`,
    );
    const runningIds = [...statuses].filter(([, s]) => s === 'running').map(([id]) => id);
    assert.deepEqual(
      [...state.active].sort((a, b) => a - b),
      runningIds,
      `${where}: active is not the running jobs`,
    );
    for (const id of state.dependent) assert.equal(statuses.get(id), 'queue', `${where}: dependent job ${id} not queued`);
    for (const id of runningIds) assert.ok(slots.has(id), `${where}: running job ${id} holds no granted slot`);
    for (const id of slots.keys())
      assert.ok(
        statuses.get(id) === 'running' || atNextPass.includes(id),
        `${where}: slot of job ${id} (${statuses.get(id)}) never given back`,
      );
    for (const node of Object.keys(NODES)) assert.ok(free(node) >= 0, `${where}: node ${node} overbooked`);
    for (const id of live) assert.equal(statuses.get(id), 'running', `${where}: job ${id} runs but is ${statuses.get(id)}`);
    for (const [id, s] of statuses) {
      const was = before.get(id);
      const job = state.jobs.get(id)!;
      if (was !== undefined && was !== 'queue' && was !== 'running' && !isFinal(job))
        assert.equal(action, 'requeue', `${where}: job ${id} came back from ${was} to ${s} without a retry`);
    }
    assert.equal(statuses.size, state.jobs.size, `${where}: the counts do not add up`);
    before = statuses;
  }
  const seen = new Map<string, number>();
  for (const j of state.jobs.values()) {
    seen.set(j.state.type, (seen.get(j.state.type) ?? 0) + 1);
    if ((j.attempts?.length ?? 0) > 0) seen.set('retried', (seen.get('retried') ?? 0) + 1);
    if (j.state.type === 'undone' && j.state.reason !== undefined) seen.set('never', (seen.get('never') ?? 0) + 1);
  }
  return seen;
}

test('random sequences keep the job state machine whole', () => {
  const fixed = process.env.QPY_FUZZ_SEED;
  const seeds = fixed ? [seedFrom(fixed)] : [1, 2, 3, 42, seedFrom(undefined)];
  const seen = new Map<string, number>();
  for (const seed of seeds) {
    for (const [k, n] of run(seed, 3000)) seen.set(k, (seen.get(k) ?? 0) + n); // each assertion names its seed
  }
  // The sequences reach every corner of the state machine.
  if (!fixed)
    for (const k of ['done', 'failed', 'killed', 'undone', 'node_failed', 'queue', 'retried', 'never'])
      assert.ok((seen.get(k) ?? 0) > 0, `no job ${k}`);
});
