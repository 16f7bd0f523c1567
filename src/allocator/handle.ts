/**
 * The allocator's message handler: one function per master → allocator
 * message, dispatched by an exhaustive switch. Each call mutates the state
 * and returns exactly one reply; nothing here does I/O or reads the clock.
 */
import type { AllocatorToMaster, MasterToAllocator } from '../protocol/master-allocator.js';
import { QpyError } from '../errors.js';
import { MAX_QUEUE_SIZE, MAX_SLOT_CORES, MAX_SLOT_GPUS, MAX_SLOT_MEM_GB } from '../protocol/master-allocator.js';
import { gpuUuidsOf } from './gpus.js';
import { chargeSlot, releaseSlot, type SlotRequest } from './accounting.js';
import { checkFeasible } from './feasible.js';
import { parseAttrExpr } from './attributes.js';
import { tryGrant } from './grant.js';
import { addUser, type AllocatorState, type SlotRecord, type UserState } from './state.js';
import { forgetIfIdle, pruneNode, pruneNodes } from './admin.js';
import { buildStatus } from './status.js';
import { DEFAULT_LIMITS, limitsProblem, sameLimits } from './limits-file.js';

type Msg<T extends MasterToAllocator['type']> = Extract<MasterToAllocator, { type: T }>;

function badRequest(id: number, message: string): AllocatorToMaster {
  return new QpyError('BAD_REQUEST', message).toReply(id);
}

function notRegistered(id: number, user: string): AllocatorToMaster {
  return badRequest(id, `user ${user} is not registered`);
}

/** Is `n` a safe integer from `min` to `max`? */
const intIn = (n: number, min: number, max: number): boolean => Number.isSafeInteger(n) && n >= min && n <= max;

/** A reported queue size, kept within bounds whatever the caller sent (status must stay valid). */
const queueOf = (n: number): number => (Number.isFinite(n) ? Math.min(MAX_QUEUE_SIZE, Math.max(0, Math.floor(n))) : 0);

/**
 * The problem with a registration, or null; checked before anything changes.
 * The same bounds as the wire schema: the embedded allocator is called
 * without parsing, and no sum the allocator keeps may lose exactness.
 */
function checkRegistration(msg: Msg<'register'>): string | null {
  if (!intIn(msg.queueSize, 0, MAX_QUEUE_SIZE)) return `the queue size ${msg.queueSize} is not an integer from 0 to ${MAX_QUEUE_SIZE}`;
  const seen = new Set<number>();
  for (const s of msg.running) {
    if (!intIn(s.jobId, 0, Number.MAX_SAFE_INTEGER)) return `job id ${s.jobId} is not a whole number of 0 or more`;
    if (seen.has(s.jobId)) return `job ${s.jobId} is reported twice`;
    seen.add(s.jobId);
    if (typeof s.node !== 'string' || s.node === '') return `job ${s.jobId} is reported on no node`;
    if (!intIn(s.cores, 1, MAX_SLOT_CORES)) return `job ${s.jobId} is reported with ${s.cores} cores (1 to ${MAX_SLOT_CORES})`;
    if (!Number.isFinite(s.memGB) || s.memGB < 0 || s.memGB > MAX_SLOT_MEM_GB)
      return `job ${s.jobId} is reported with ${s.memGB} GB of memory (0 to ${MAX_SLOT_MEM_GB})`;
    const gpus = s.gpus ?? [];
    if (gpus.length > MAX_SLOT_GPUS || gpus.some((g) => !intIn(g, 0, MAX_SLOT_GPUS - 1)) || new Set(gpus).size !== gpus.length)
      return `job ${s.jobId} is reported with GPUs ${gpus.join(',')} (distinct device indices from 0 to ${MAX_SLOT_GPUS - 1})`;
  }
  return null;
}

/** How a master's `register` is taken: see onRegister. */
export interface HandleOptions {
  /**
   * True for the embedded allocator, whose one master is the only truth
   * (§3.9: reported slots are charged without capacity checks). False for
   * the shared qpy-multiuser daemon, whose own books are the only truth: a
   * master keeps only the slots the daemon granted it.
   */
  trustRegistrations: boolean;
}

const gpuText = (gpus: readonly number[] | undefined): string =>
  gpus === undefined || gpus.length === 0 ? '' : `, GPU${gpus.length === 1 ? '' : 's'} ${gpus.join(',')}`;
const slotText = (s: SlotRequest): string => `${s.cores} core${s.cores === 1 ? '' : 's'} and ${s.memGB} GB on ${s.node}${gpuText(s.gpus)}`;
const sameGpus = (a: readonly number[] | undefined, b: readonly number[] | undefined): boolean =>
  (a ?? []).length === (b ?? []).length && (a ?? []).every((g, i) => g === (b ?? [])[i]);

/** Why a reported slot is not one the allocator holds for this user, or null when it is. */
function refusal(held: SlotRecord | undefined, r: SlotRequest): string | null {
  if (held === undefined) return `job ${r.jobId} holds no slot granted to this user (never granted, or already released)`;
  if (held.node !== r.node || held.cores !== r.cores || held.memGB !== r.memGB || !sameGpus(held.gpus, r.gpus)) {
    return `job ${r.jobId} was granted ${slotText(held)}, not ${slotText(r)}`;
  }
  return null;
}

/**
 * Register a master's user: add it if unknown (which redistributes the
 * shares), then settle its slots with the report.
 *
 * Trusted (embedded): the slots become exactly the reported ones, charged
 * without capacity checks (§3.9); held slots not reported are released,
 * changed ones released and charged again.
 *
 * Strict (qpy-multiuser): a reported slot the allocator holds for this user
 * with the same node, cores and memory is kept; held slots not reported are
 * released; every other reported slot (never granted, released, another
 * user's, or changed) is refused, never charged, and named in the reply. A
 * held slot reported changed stays charged as granted. So a registration
 * never adds load anywhere.
 */
function onRegister(state: AllocatorState, msg: Msg<'register'>, opts: HandleOptions): AllocatorToMaster {
  const problem = checkRegistration(msg);
  if (problem !== null) return badRequest(msg.id, problem);
  const user: UserState = addUser(state, msg.user, msg.queueSize);
  user.queueSize = msg.queueSize;
  user.gpu.queue = queueOf(msg.gpuQueue ?? 0);
  const reported = new Map(msg.running.map((s) => [s.jobId, s]));
  const refused: { jobId: number; reason: string }[] = [];
  if (opts.trustRegistrations) {
    for (const held of [...user.slots.values()]) {
      const r = reported.get(held.jobId);
      if (r === undefined || refusal(held, r) !== null) releaseSlot(state, user, held.jobId);
    }
    for (const r of msg.running) {
      if (!user.slots.has(r.jobId)) chargeSlot(state, user, r);
    }
  } else {
    for (const held of [...user.slots.values()]) {
      if (!reported.has(held.jobId)) releaseSlot(state, user, held.jobId);
    }
    for (const r of msg.running) {
      const reason = refusal(user.slots.get(r.jobId), r);
      if (reason !== null) refused.push({ jobId: r.jobId, reason });
    }
  }
  pruneNodes(state);
  forgetIfIdle(state, user);
  return { type: 'registered', id: msg.id, refused };
}

/**
 * Ask for a slot. `queueSize` counts the job being asked for, so after a
 * grant the user's queue is one smaller (§3.6).
 */
function onRequest(state: AllocatorState, msg: Msg<'request'>): AllocatorToMaster {
  const user = state.userByName.get(msg.user);
  if (user === undefined) return notRegistered(msg.id, msg.user);
  if (!intIn(msg.jobId, 0, Number.MAX_SAFE_INTEGER)) return badRequest(msg.id, `job id ${msg.jobId} is not a whole number of 0 or more`);
  if (user.removed) {
    user.queueSize = queueOf(msg.queueSize);
    return new QpyError(
      'NOT_ALLOWED',
      `user ${msg.user} is not allowed to use this cluster any more (removed by the administrator): running jobs finish, no new ones start`,
    ).toReply(msg.id);
  }
  const over = limitsProblem(state.limits, msg.demand, true);
  if (over !== null) {
    user.queueSize = queueOf(msg.queueSize);
    return { type: 'refused', id: msg.id, jobId: msg.jobId, reason: 'over_limits', problem: over };
  }
  user.gpu.queue = queueOf(msg.gpuQueue ?? 0);
  const result = tryGrant(state, user, msg.jobId, msg.demand);
  if (result.ok) {
    user.queueSize = queueOf(msg.queueSize - 1);
    if ((msg.demand.gpus ?? 0) > 0) user.gpu.queue = queueOf(user.gpu.queue - 1);
    const { gpus } = result.slot;
    const uuids = gpuUuidsOf(result.node, gpus);
    return {
      type: 'granted',
      id: msg.id,
      jobId: msg.jobId,
      node: result.node.spec.name,
      address: result.node.spec.address,
      ...(gpus.length > 0 ? { gpus: [...gpus] } : {}),
      ...(uuids === null ? {} : { gpuUuids: uuids }),
    };
  }
  user.queueSize = queueOf(msg.queueSize);
  if (result.reason === 'invalid') return new QpyError(result.code, result.message).toReply(msg.id);
  return { type: 'refused', id: msg.id, jobId: msg.jobId, reason: result.reason };
}

/** A job ended: free its slot. Releasing an unknown job is harmless and still answered `released`. */
function onRelease(state: AllocatorState, msg: Msg<'release'>): AllocatorToMaster {
  const user = state.userByName.get(msg.user);
  if (user === undefined) return notRegistered(msg.id, msg.user);
  const slot = releaseSlot(state, user, msg.jobId);
  user.queueSize = queueOf(msg.queueSize);
  user.gpu.queue = queueOf(msg.gpuQueue ?? 0);
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

/** Whether the demand could ever run; an expression nested too deep is an error (BAD_EXPR), other bad expressions a `problem`. */
function onFeasible(state: AllocatorState, msg: Msg<'feasible'>): AllocatorToMaster {
  const parsed = parseAttrExpr(msg.demand.attrs);
  if (!parsed.ok && parsed.code === 'BAD_EXPR') return new QpyError('BAD_EXPR', parsed.message).toReply(msg.id);
  const problem = limitsProblem(state.limits, msg.demand, false) ?? checkFeasible(state, msg.demand);
  return { type: 'feasibility', id: msg.id, problem, ...(sameLimits(state.limits, DEFAULT_LIMITS) ? {} : { limits: state.limits }) };
}

/**
 * Handle one message from a master and return its reply. Unknown users may
 * ask `feasible` and `status`; `request` and `release` need a registration.
 */
export function handleMasterMessage(state: AllocatorState, msg: MasterToAllocator, opts: HandleOptions): AllocatorToMaster {
  switch (msg.type) {
    case 'register':
      return onRegister(state, msg, opts);
    case 'request':
      return onRequest(state, msg);
    case 'release':
      return onRelease(state, msg);
    case 'feasible':
      return onFeasible(state, msg);
    case 'status':
      return { type: 'status', id: msg.id, status: buildStatus(state) };
    case 'nodeLink':
      return onNodeLink(state, msg);
    case 'certificateStored':
      // qpy-multiuser's business (it counts who stored a new certificate); nothing for the allocation.
      return { type: 'noted', id: msg.id };
    default: {
      const unreachable: never = msg;
      return badRequest((unreachable as { id: number }).id, 'unknown message');
    }
  }
}

/** Re-exported so callers can build and drive an allocator from this one module. */
export { createAllocator, addUser } from './state.js';
