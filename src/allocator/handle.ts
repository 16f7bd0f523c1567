/**
 * The allocator's message handler: one function per master → allocator
 * message, dispatched by an exhaustive switch. Each call mutates the state
 * and returns exactly one reply; nothing here does I/O or reads the clock.
 */
import type { AllocatorToMaster, MasterToAllocator } from '../protocol/master-allocator.js';
import { QpyError } from '../errors.js';
import { chargeSlot, releaseSlot } from './accounting.js';
import { checkFeasible } from './feasible.js';
import { tryGrant } from './grant.js';
import { addUser, type AllocatorState, type UserState } from './state.js';
import { forgetIfIdle, pruneNode, pruneNodes } from './admin.js';
import { buildStatus } from './status.js';

type Msg<T extends MasterToAllocator['type']> = Extract<MasterToAllocator, { type: T }>;

function badRequest(id: number, message: string): AllocatorToMaster {
  return new QpyError('BAD_REQUEST', message).toReply(id);
}

function notRegistered(id: number, user: string): AllocatorToMaster {
  return badRequest(id, `user ${user} is not registered`);
}

/** The problem with a reported slot list, or null; checked before anything changes. */
function checkRunning(msg: Msg<'register'>): string | null {
  const seen = new Set<number>();
  for (const s of msg.running) {
    if (seen.has(s.jobId)) return `job ${s.jobId} is reported twice`;
    seen.add(s.jobId);
    if (s.cores < 1) return `job ${s.jobId} is reported with ${s.cores} cores`;
    if (s.memGB < 0) return `job ${s.jobId} is reported with ${s.memGB} GB of memory`;
  }
  return null;
}

/**
 * Register a master's user: add it if unknown (which redistributes the
 * shares), then make its slots exactly the reported ones, charged without
 * capacity checks (§3.9). Slots the allocator holds but the master no longer
 * reports are released; changed ones are released and charged again.
 */
function onRegister(state: AllocatorState, msg: Msg<'register'>): AllocatorToMaster {
  const problem = checkRunning(msg);
  if (problem !== null) return badRequest(msg.id, problem);
  const user: UserState = addUser(state, msg.user, msg.queueSize);
  user.queueSize = msg.queueSize;
  const reported = new Map(msg.running.map((s) => [s.jobId, s]));
  for (const held of [...user.slots.values()]) {
    const r = reported.get(held.jobId);
    if (r === undefined || r.node !== held.node || r.cores !== held.cores || r.memGB !== held.memGB) {
      releaseSlot(state, user, held.jobId);
    }
  }
  for (const r of msg.running) {
    if (!user.slots.has(r.jobId)) chargeSlot(state, user, r);
  }
  pruneNodes(state);
  return { type: 'registered', id: msg.id };
}

/**
 * Ask for a slot. `queueSize` counts the job being asked for, so after a
 * grant the user's queue is one smaller (§3.6).
 */
function onRequest(state: AllocatorState, msg: Msg<'request'>): AllocatorToMaster {
  const user = state.userByName.get(msg.user);
  if (user === undefined) return notRegistered(msg.id, msg.user);
  if (user.removed) {
    user.queueSize = Math.max(0, msg.queueSize);
    return new QpyError('NOT_ALLOWED', `user ${msg.user} was removed by the administrator: running jobs finish, no new ones start`).toReply(msg.id);
  }
  const result = tryGrant(state, user, msg.jobId, msg.demand);
  if (result.ok) {
    user.queueSize = Math.max(0, msg.queueSize - 1);
    return { type: 'granted', id: msg.id, jobId: msg.jobId, node: result.node.spec.name, address: result.node.spec.address };
  }
  user.queueSize = Math.max(0, msg.queueSize);
  if (result.reason === 'invalid') return new QpyError(result.code, result.message).toReply(msg.id);
  return { type: 'refused', id: msg.id, jobId: msg.jobId, reason: result.reason };
}

/** A job ended: free its slot. Releasing an unknown job is harmless and still answered `released`. */
function onRelease(state: AllocatorState, msg: Msg<'release'>): AllocatorToMaster {
  const user = state.userByName.get(msg.user);
  if (user === undefined) return notRegistered(msg.id, msg.user);
  const slot = releaseSlot(state, user, msg.jobId);
  user.queueSize = Math.max(0, msg.queueSize);
  if (slot !== null) pruneNode(state, slot.node);
  forgetIfIdle(state, user);
  return { type: 'released', id: msg.id, found: true };
}

/** The master reports whether it can reach a node; known or not, the report is kept (nodes may be added later). */
function onNodeLink(state: AllocatorState, msg: Msg<'nodeLink'>): AllocatorToMaster {
  const user = state.userByName.get(msg.user);
  if (user === undefined) return notRegistered(msg.id, msg.user);
  if (msg.reachable) user.unreachable.delete(msg.node);
  else user.unreachable.add(msg.node);
  if (msg.reachable || msg.reason === undefined) user.unreachableReasons?.delete(msg.node);
  else (user.unreachableReasons ??= new Map()).set(msg.node, msg.reason);
  return { type: 'noted', id: msg.id };
}

/**
 * Handle one message from a master and return its reply. Unknown users may
 * ask `feasible` and `status`; `request` and `release` need a registration.
 */
export function handleMasterMessage(state: AllocatorState, msg: MasterToAllocator): AllocatorToMaster {
  switch (msg.type) {
    case 'register':
      return onRegister(state, msg);
    case 'request':
      return onRequest(state, msg);
    case 'release':
      return onRelease(state, msg);
    case 'feasible':
      return { type: 'feasibility', id: msg.id, problem: checkFeasible(state, msg.demand) };
    case 'status':
      return { type: 'status', id: msg.id, status: buildStatus(state) };
    case 'nodeLink':
      return onNodeLink(state, msg);
    default: {
      const unreachable: never = msg;
      return badRequest((unreachable as { id: number }).id, 'unknown message');
    }
  }
}

/** Re-exported so callers can build and drive an allocator from this one module. */
export { createAllocator, addUser } from './state.js';
