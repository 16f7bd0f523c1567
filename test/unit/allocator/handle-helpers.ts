/**
 * Shared by the unit tests of the allocator's message handler
 * (handle.test.ts, handle-register.test.ts): send one master message and
 * check the reply against the wire schema, its id and the counters' balance;
 * request and register as a master would, strict or trusted.
 */
import assert from 'node:assert/strict';
import { handleMasterMessage, type HandleOptions } from '../../../src/allocator/handle.js';
import type { AllocatorState } from '../../../src/allocator/state.js';
import type { AllocatorToMaster, Demand, MasterToAllocator, Slot } from '../../../src/protocol/master-allocator.js';
import { allocatorToMasterSchema } from '../../../src/protocol/master-allocator.js';
import { assertBalanced } from './fixtures.js';

/** The id of the next message `send` sends (a test reads `nextId - 1` for the last one's). */
export let nextId = 1;

export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export const STRICT: HandleOptions = { trustRegistrations: false };
export const TRUSTED: HandleOptions = { trustRegistrations: true };

/** Send one message, check the reply against the wire schema and its id. */
export function send(s: AllocatorState, msg: WithoutId<MasterToAllocator>, opts = STRICT): AllocatorToMaster {
  const id = nextId++;
  const reply = handleMasterMessage(s, { ...msg, id } as MasterToAllocator, opts);
  assert.deepEqual(allocatorToMasterSchema(JSON.parse(JSON.stringify(reply)), '$'), reply);
  assert.equal(reply.id, id);
  assert.equal(assertBalanced(s), undefined);
  return reply;
}

export const demand = (cores = 1, memGB = 1, attrs: string | null = null): Demand => ({ cores, memGB, attrs });

export function request(s: AllocatorState, user: string, jobId: number, queueSize: number, d = demand()): string {
  const r = send(s, { type: 'request', user, jobId, demand: d, queueSize });
  if (r.type === 'granted') return r.node;
  if (r.type === 'refused') return r.reason;
  if (r.type === 'error') return `error ${r.code}: ${r.message}`;
  return r.type;
}

/** Register as the embedded allocator's master does (trusted), unless `opts` says otherwise. */
export function register(s: AllocatorState, user: string, running: Slot[] = [], queueSize = 0, opts = TRUSTED): AllocatorToMaster {
  return send(s, { type: 'register', user, running, queueSize }, opts);
}
