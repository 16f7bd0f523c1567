/**
 * The random steps of the allocator's property test (property.test.ts):
 * grants, releases, honest and hostile registrations, dead-master reaping,
 * and what the admin and the probes change. Each checks what it can
 * exactly and returns a line for the failure trail.
 */
import assert from 'node:assert/strict';
import { reloadNodes, removeUser, setDrained } from '../../../src/allocator/admin.js';
import { borrowableCores, globalFreeCores } from '../../../src/allocator/grant.js';
import { releaseVanishedSlots } from '../../../src/allocator/reap.js';
import { recountCores, redistribute, setNodeMetrics, setRules, takesJobs } from '../../../src/allocator/state.js';
import type { Slot } from '../../../src/protocol/master-allocator.js';
import { USERS, NODE_NAMES, RULES, HUGE, type Run } from './property-run.js';

/** A grant: checked against the share rules and the node's room as they were just before it. */
function stepRequest(r: Run): string {
  const user = r.pick(USERS);
  const jobId = r.job();
  const d = {
    cores: r.chance(0.05) ? r.pick([0, 2 ** 40, -1]) : r.int(1, 6),
    memGB: r.pick([0, 0.5, 1, 2.25, 5, 30]),
    attrs: r.pick([null, null, null, 'gpu', 'n2', 'gpu or n1', 'gpu and'] as const),
  };
  const u = r.s.userByName.get(user);
  const held = u?.slots.has(jobId) ?? false;
  // §3.6 step A: the minimum, the share (min + extra), or the share plus what it may borrow now.
  const share = u === undefined ? 0 : u.min + u.extra + Math.max(0, borrowableCores(r.s, u));
  const globalFree = globalFreeCores(r.s);
  const before = new Map(
    r.s.nodes.map((n) => [
      n.spec.name,
      { up: takesJobs(n), free: n.spec.cores - n.usedCores - n.outsiders, avail: n.spec.memGB - n.reqMemGB },
    ]),
  );
  const used = u?.usedCores ?? 0;
  const reply = r.send({ type: 'request', user, jobId, demand: d, queueSize: r.int(0, 30) });
  const what = `request ${user} job ${jobId} ${JSON.stringify(d)}: ${reply.type === 'granted' ? `granted on ${reply.node}` : reply.type}`;
  if (reply.type !== 'granted' || held) return what;
  assert.ok(u !== undefined && !u.removed, `${what}, to a user not registered or removed`);
  assert.ok(u.usedCores === used + d.cores, `${what}: not charged exactly the demand`);
  assert.ok(u.usedCores <= share, `${what}: ${user} took ${u.usedCores} cores, its share rules allow ${share}`);
  if (u.usedCores > u.min) assert.ok(globalFree >= d.cores, `${what}: beyond the minimum with ${globalFree} free cores`);
  const n = before.get(reply.node)!;
  assert.ok(n.up && !u.unreachable.has(reply.node), `${what}: that node takes no jobs for ${user}`);
  assert.ok(n.free >= d.cores && n.avail > d.memGB, `${what}: no room there: ${JSON.stringify(n)}`);
  return what;
}

function stepRelease(r: Run): string {
  const user = r.pick(USERS);
  const mine = r.slotsOf(user);
  const jobId = mine.length > 0 && r.chance(0.8) ? r.pick(mine).jobId : r.job();
  const reply = r.send({ type: 'release', user, jobId, queueSize: r.int(0, 10) });
  if (reply.type === 'released') assert.ok(!(r.s.userByName.get(user)?.slots.has(jobId) ?? false));
  return `release ${user} job ${jobId}: ${reply.type}`;
}

/** A registration, honest (a subset of what it holds) or hostile; what is kept and refused is checked exactly. */
function stepRegister(r: Run): string {
  const user = r.pick(USERS);
  const mine = r.slotsOf(user);
  const report: Slot[] = mine.filter(() => r.chance(0.8)).map((s) => ({ jobId: s.jobId, node: s.node, cores: s.cores, memGB: s.memGB }));
  const hostile = r.chance(0.5);
  if (hostile) {
    for (let k = r.int(1, 3); k > 0; k--) {
      const kind = [0, 0, 0, 1, 1, 1, 2, 2, 3, 4][r.int(0, 9)]!; // never granted, another's, changed, duplicate, out of bounds
      const other = r.allSlots();
      const ids = new Set(report.map((x) => x.jobId));
      let slot: Slot | null = null;
      if (kind === 0) slot = { jobId: r.freshJob(), node: r.pick(NODE_NAMES), cores: r.int(1, 64), memGB: r.pick([1, 60]) };
      else if (kind === 1 && other.length > 0) {
        const o = r.pick(other); // mostly another user's job id
        slot = { jobId: o.jobId, node: o.node, cores: o.cores, memGB: o.memGB };
      } else if (kind === 2 && report.length > 0) {
        const i = r.int(0, report.length - 1);
        report[i] = {
          ...report[i]!,
          ...r.pick([{ cores: report[i]!.cores + 1 }, { memGB: report[i]!.memGB + 1 }, { node: r.pick(NODE_NAMES) }]),
        };
      } else if (kind === 3 && report.length > 0) report.push({ ...r.pick(report) });
      else if (kind === 4) slot = { jobId: r.job(), node: r.pick(NODE_NAMES), cores: 1, memGB: 1, ...r.pick(HUGE) };
      if (slot !== null && (!ids.has(slot.jobId) || kind === 4)) report.push(slot);
    }
  }
  const heldBefore = new Map(mine.map((s) => [s.jobId, { ...s }]));
  const reply = r.send({ type: 'register', user, running: report, queueSize: r.int(0, 20) });
  const what = `${hostile ? 'hostile ' : ''}register ${user} ${JSON.stringify(report)}`;
  const ids = report.map((x) => x.jobId);
  const malformed =
    new Set(ids).size !== ids.length ||
    report.some(
      (x) =>
        !(
          Number.isSafeInteger(x.cores) &&
          x.cores >= 1 &&
          x.cores <= 1e6 &&
          x.memGB >= 0 &&
          x.memGB <= 1e6 &&
          x.jobId >= 0 &&
          x.node !== ''
        ),
    );
  if (malformed) {
    assert.equal(reply.type, 'error', `${what}: a malformed report must be refused whole`);
    assert.deepEqual(r.slotsOf(user), mine, 'and change nothing');
    return `${what}: error`;
  }
  assert.equal(reply.type, 'registered');
  const same = (a: Slot, b: Slot | undefined): boolean =>
    b !== undefined && a.node === b.node && a.cores === b.cores && a.memGB === b.memGB;
  const expectRefused = report.filter((x) => !same(x, heldBefore.get(x.jobId))).map((x) => x.jobId);
  assert.deepEqual(reply.type === 'registered' && reply.refused.map((x) => x.jobId), expectRefused, `${what}: refused`);
  const expectKept = mine.filter((s) => ids.includes(s.jobId)).map((s) => s.jobId);
  assert.deepEqual(
    r.slotsOf(user).map((s) => s.jobId),
    expectKept,
    `${what}: kept`,
  );
  for (const s of r.slotsOf(user)) assert.ok(same(s, heldBefore.get(s.jobId)), 'kept as granted');
  return `${what}: refused ${expectRefused.join(',') || '-'}`;
}

/** Dead-master reaping: a complete listing on some nodes, the others absent (down or incomplete). */
function stepReap(r: Run): string {
  const user = r.pick(USERS);
  const mine = r.slotsOf(user);
  const live = new Map<string, Set<number>>();
  for (const n of NODE_NAMES)
    if (r.chance(0.5)) live.set(n, new Set(mine.filter((s) => s.node === n && r.chance(0.5)).map((s) => s.jobId)));
  const expect = mine.filter((s) => live.has(s.node) && !live.get(s.node)!.has(s.jobId)).map((s) => s.jobId);
  const released = releaseVanishedSlots(r.s, user, live).map((s) => s.jobId);
  assert.deepEqual(released, expect);
  for (const s of r.slotsOf(user)) assert.ok(!expect.includes(s.jobId));
  return `reap ${user} on ${[...live.keys()].join(',')}: released ${released.join(',') || '-'}`;
}

/** What the admin and the probes change. */
function stepCluster(r: Run): string {
  const name = r.pick(NODE_NAMES);
  switch (r.int(0, 7)) {
    case 0: {
      const specs = r.someNodes();
      reloadNodes(r.s, specs);
      return `reload ${specs.map((n) => `${n.name}(${n.cores}c ${n.memGB}G)`).join(' ')}`;
    }
    case 1: {
      const n = r.s.nodeByName.get(name);
      if (n === undefined) return `probe ${name}: none`;
      n.spec = { ...n.spec, cores: r.int(1, 8), memGB: r.pick([1, 4, 16]) }; // as node-prober.ts does
      recountCores(r.s);
      redistribute(r.s);
      return `probe ${name}: capacity ${n.spec.cores}c ${n.spec.memGB}G`;
    }
    case 2:
      return `drain ${name}: ${setDrained(r.s, name, r.chance(0.6))}`;
    case 3:
      setNodeMetrics(r.s, name, { up: r.chance(0.7), outsiders: r.int(0, 3), load: r.rng.next() * 4, usedMemGB: r.rng.next() * 8 });
      return `probe ${name}: metrics`;
    case 4: {
      const user = r.pick(USERS);
      if (r.chance(0.6))
        return `register ${user} (new or again, nothing running): ${r.send({ type: 'register', user, running: [], queueSize: r.int(0, 20) }).type}`;
      return `remove ${user}: ${removeUser(r.s, user)}`;
    }
    case 5:
      setRules(r.s, r.pick(RULES));
      return `rules ${r.s.rules.type} minimum ${r.s.rules.minimum}`;
    case 6: {
      const user = r.pick(USERS);
      return `nodeLink ${user} ${name}: ${r.send({ type: 'nodeLink', user, node: name, reachable: r.chance(0.6) }).type}`;
    }
    default: {
      const user = r.pick(USERS);
      return `register ${user} (new or again, nothing running): ${r.send({ type: 'register', user, running: [], queueSize: r.int(0, 20) }).type}`;
    }
  }
}

export function step(r: Run): string {
  const x = r.rng.next();
  if (x < 0.35) return stepRequest(r);
  if (x < 0.5) return stepRelease(r);
  if (x < 0.7) return stepRegister(r);
  if (x < 0.78) return stepReap(r);
  return stepCluster(r);
}
